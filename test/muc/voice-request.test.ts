// Voice requests (XEP-0045 §7.13, §8.6): a visitor asks, moderators get the approval form, one approves; through a
// real Router with capturing sessions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from '../../src/xmpp/xml.js';
import { readForm } from '../../src/muc/forms.js';
import { harness, join, item, errorCondition, HOST, tick, submitConfig, type FakeSession } from './helpers.js';

const DATA = 'jabber:x:data';
const REQUEST = 'http://jabber.org/protocol/muc#request';

function ask(s: FakeSession): void {
  s.out(
    `<message to="r@${HOST}" id="ask"><x xmlns="${DATA}" type="submit">` +
      `<field var="FORM_TYPE"><value>${REQUEST}</value></field>` +
      `<field var="muc#role" type="text-single"><value>participant</value></field></x></message>`,
  );
}
function answer(s: FakeSession, form: Element, allow: boolean): void {
  const f = readForm(form);
  const field = (k: string, v: string) => `<field var="${k}"><value>${v}</value></field>`;
  s.out(
    `<message to="r@${HOST}" id="ok"><x xmlns="${DATA}" type="submit">${field('FORM_TYPE', REQUEST)}` +
      `${field('muc#role', 'participant')}${field('muc#jid', f.get('muc#jid')![0])}${field('muc#roomnick', f.get('muc#roomnick')![0])}` +
      `${field('muc#request_allow', allow ? 'true' : 'false')}</x></message>`,
  );
}
const formOf = (got: Element[]) => got.find((s) => s.name === 'message' && s.getChild('x', DATA))?.getChild('x', DATA);

async function setup() {
  const h = await harness();
  const owner = h.session('owner@localhost/1');
  const mod2 = h.session('admin@localhost/1');
  const alice = h.session('alice@localhost/1');
  const viewer = h.session('v@anon.localhost/x');
  join(owner, 'r', 'Owner');
  owner.out(
    `<iq type="set" id="a" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="admin" jid="admin@localhost"/></query></iq>`,
  );
  submitConfig(owner, 'r', { 'muc#roomconfig_moderatedroom': '1' });
  await tick();
  join(mod2, 'r', 'Admin');
  join(alice, 'r', 'Alice');
  join(viewer, 'r', 'Viewer');
  for (const s of [owner, mod2, alice, viewer]) s.take();
  return { h, owner, mod2, alice, viewer };
}

test('a visitor asks for voice: every moderator gets the approval form, nobody else', async () => {
  const { owner, mod2, alice, viewer } = await setup();
  ask(viewer);
  assert.equal(viewer.take(), [], 'no error, no echo');
  assert.not.ok(formOf(alice.take()), 'a visitor does not see requests');
  for (const m of [owner, mod2]) {
    const form = formOf(m.take())!;
    assert.is(form.attrs.type, 'form');
    const f = readForm(form);
    assert.equal(f.get('FORM_TYPE'), [REQUEST]);
    assert.equal(f.get('muc#roomnick'), ['Viewer']);
    assert.equal(f.get('muc#jid'), ['v@anon.localhost/x']);
    assert.equal(f.get('muc#role'), ['participant']);
    assert.equal(f.get('muc#request_allow'), ['false']);
    // Clients parse the form by the field types of XEP-0045 Example 80 (aioxmpp rejects others).
    const typeOf = (v: string) => form.getChildren('field').find((x) => x.attrs.var === v)?.attrs.type;
    assert.equal(['muc#role', 'muc#jid', 'muc#roomnick', 'muc#request_allow'].map(typeOf), [
      'list-single',
      'jid-single',
      'text-single',
      'boolean',
    ]);
  }
  // Asking again at once does not reach the moderators a second time.
  ask(viewer);
  assert.equal(owner.take(), []);
});

test('a moderator approves: the visitor becomes participant and can speak; a refusal changes nothing', async () => {
  const { owner, mod2, viewer, alice } = await setup();
  ask(viewer);
  const form = formOf(owner.take())!;
  mod2.take();
  answer(mod2, form, false);
  assert.equal(viewer.take(), []);
  answer(owner, form, true);
  const self = viewer.take().find((s) => s.name === 'presence')!;
  assert.is(item(self)?.attrs.role, 'participant');
  assert.is(item(self)?.getChild('actor')?.attrs.nick, 'Owner');
  assert.is(item(alice.take().find((s) => s.name === 'presence')!)?.attrs.role, 'participant', 'others see the grant');
  viewer.out(`<message type="groupchat" to="r@${HOST}"><body>thanks</body></message>`);
  assert.ok(viewer.take().some((s) => s.name === 'message' && s.getChildText('body') === 'thanks'));
  // A stale approval (already voiced) does nothing.
  owner.take();
  answer(owner, form, true);
  assert.equal(viewer.take(), []);
});

test('non-moderators cannot approve; non-occupants cannot ask', async () => {
  const { h, owner, viewer } = await setup();
  ask(viewer);
  const form = formOf(owner.take())!;
  const other = h.session('v2@anon.localhost/y');
  join(other, 'r', 'Other');
  other.take();
  viewer.take();
  answer(other, form, true); // a visitor "approving" is just another request, not a grant
  assert.equal(viewer.take(), []);
  const outsider = h.session('out@localhost/1');
  ask(outsider);
  assert.is(errorCondition(outsider.take()[0]), 'not-acceptable');
  owner.out(`<iq type="get" id="d" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  await tick();
  const q = owner
    .take()
    .find((s) => s.name === 'iq')!
    .getChild('query')!;
  assert.ok(q.getChildren('feature').some((f) => f.attrs.var === REQUEST));
});

test.run();
