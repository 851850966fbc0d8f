// Room disco#info answered from the room's cached text: whatever changed between two requests shows in the second,
// the occupant counts that change with every join as much as a rename, a new setting or a new subject.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from 'ltx';
import { harness, join, HOST, tick, submitConfig, type FakeSession } from './helpers.js';

const INFO = 'http://jabber.org/protocol/disco#info';

async function info(s: FakeSession, room: string): Promise<Element> {
  s.take();
  s.out(`<iq type="get" id="d" to="${room}@${HOST}"><query xmlns="${INFO}"/></iq>`);
  await tick();
  const answer = s.take().find((x) => x.name === 'iq' && x.attrs.id === 'd');
  assert.ok(answer, 'an answer to disco#info');
  assert.is(answer!.attrs.type, 'result');
  return answer!.getChild('query', INFO)!;
}

const field = (q: Element, v: string): string[] =>
  (
    q
      .getChild('x', 'jabber:x:data')
      ?.getChildren('field')
      .find((f) => f.attrs.var === v)
      ?.getChildren('value') ?? []
  ).map((x) => x.getText());
const features = (q: Element): string[] => q.getChildren('feature').map((f) => f.attrs.var);

test('counts, name, settings and subject are current in every answer', async () => {
  const h = await harness();
  const owner = h.session('owner@localhost/1');
  join(owner, 'r', 'Owner');
  await tick();
  let q = await info(owner, 'r');
  assert.equal(field(q, 'muc#roominfo_occupants'), ['1']);
  assert.equal(field(q, 'x-livechat#roominfo_anonymous_occupants'), ['0']);
  assert.ok(features(q).includes('muc_unmoderated'));
  const first = q.toString();

  // Two anonymous viewers join between requests: only the counts differ.
  const viewers: FakeSession[] = [];
  for (let i = 0; i < 2; i++) {
    const v = h.session(`viewer${i}@anon.localhost/x`);
    join(v, 'r', `V${i}`);
    viewers.push(v);
    await tick();
    q = await info(viewers[0]!, 'r');
    assert.equal(field(q, 'muc#roominfo_occupants'), [String(i + 2)]);
    assert.equal(field(q, 'x-livechat#roominfo_anonymous_occupants'), [String(i + 1)]);
  }
  assert.is(
    q.toString(),
    first
      .replace('<value>1</value></field></x>', '<value>3</value></field></x>')
      .replace('anonymous viewers"><value>0<', 'anonymous viewers"><value>2<'),
    'the same answer but for the counts',
  );

  // The owner renames the room and makes it moderated; then sets a subject with markup in it.
  submitConfig(owner, 'r', { 'muc#roomconfig_roomname': 'Live & "late"', 'muc#roomconfig_moderatedroom': '1' });
  await tick();
  q = await info(viewers[1]!, 'r');
  assert.is(q.getChild('identity')?.attrs.name, 'Live & "late"');
  assert.equal(field(q, 'muc#roomconfig_roomname'), ['Live & "late"']);
  assert.ok(features(q).includes('muc_moderated'));
  assert.not.ok(features(q).includes('muc_unmoderated'));
  owner.out(`<message type="groupchat" to="r@${HOST}"><subject>a &lt;b&gt; topic</subject></message>`);
  await tick();
  q = await info(viewers[1]!, 'r');
  assert.equal(field(q, 'muc#roominfo_subject'), ['a <b> topic']);

  // A viewer leaves: the next answer counts one fewer.
  viewers[0]!.out(`<presence type="unavailable" to="r@${HOST}/V0"/>`);
  await tick();
  q = await info(owner, 'r');
  assert.equal(field(q, 'muc#roominfo_occupants'), ['2']);
  assert.equal(field(q, 'x-livechat#roominfo_anonymous_occupants'), ['1']);
});

test('two rooms keep their own answers', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  join(a, 'one', 'A');
  join(a, 'two', 'A');
  const b = h.session('b@localhost/1');
  join(b, 'two', 'B');
  await tick();
  submitConfig(a, 'two', { 'muc#roomconfig_roomname': 'Second' });
  await tick();
  const one = await info(a, 'one');
  const two = await info(a, 'two');
  assert.is(one.getChild('identity')?.attrs.name, 'one');
  assert.is(two.getChild('identity')?.attrs.name, 'Second');
  assert.equal(field(one, 'muc#roominfo_occupants'), ['1']);
  assert.equal(field(two, 'muc#roominfo_occupants'), ['2']);
});

test.run();
