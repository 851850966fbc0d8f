// End to end with @xmpp/client over WebSocket: registering a nickname with a room (XEP-0045 §7.10), the reservation
// holding against an anonymous viewer, a user joining one nick from two resources, and deregistration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { enterRoom } from '../helpers/muc-join.js';

const MUC = 'http://jabber.org/protocol/muc';
const USER = 'http://jabber.org/protocol/muc#user';
const ADMIN = 'http://jabber.org/protocol/muc#admin';
const REGISTER = 'jabber:iq:register';
const HOST = 'room.localhost';
const ROOM = `verona@${HOST}`;

let srv: TestServer;
const clients: TestClient[] = [];

async function connect(username?: string, resource = 'web'): Promise<TestClient> {
  const c = username
    ? await connectClient({ service: srv.wsUrl, domain: 'localhost', username, password: 'pw', resource })
    : await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(c);
  return c;
}

const errCond = (s: Stanza) =>
  s
    .getChild('error')
    ?.children.find(
      (c: Stanza | string) =>
        typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
    )?.name;

const enter = (c: TestClient, nick: string) => enterRoom(c, `${ROOM}/${nick}`, { timeoutMs: 5000 });

test.before(async () => {
  srv = await startTestServer({ testMode: true });
});
test.after(async () => {
  for (const c of clients.splice(0)) await c.stop();
  await srv?.stop();
});

test('a member registers a nick, a viewer cannot take it, two resources share it, deregistration frees it', async () => {
  const romeo = await connect('romeo');
  const juliet = await connect('juliet', 'laptop');
  const viewer = await connect();
  await enter(romeo, 'Romeo');
  await romeo.iq(
    xml(
      'iq',
      { type: 'set', to: ROOM },
      xml('query', { xmlns: ADMIN }, xml('item', { affiliation: 'member', jid: 'juliet@localhost' })),
    ),
  );

  // The form, then the submission.
  const form = await juliet.iq(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: REGISTER })));
  const fields = form.getChild('query', REGISTER).getChild('x', 'jabber:x:data').getChildren('field');
  assert.ok(fields.some((f: Stanza) => f.attrs.var === 'muc#register_roomnick' && f.getChild('required')));
  await juliet.iq(
    xml(
      'iq',
      { type: 'set', to: ROOM },
      xml(
        'query',
        { xmlns: REGISTER },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#register')),
          xml('field', { var: 'muc#register_roomnick' }, xml('value', {}, 'Juliet')),
        ),
      ),
    ),
  );
  const nick = await juliet.iq(
    xml(
      'iq',
      { type: 'get', to: ROOM },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: 'x-roomuser-item' }),
    ),
  );
  assert.is(nick.getChild('query').getChild('identity')?.attrs.name, 'Juliet');

  // An anonymous viewer may neither take the nick nor register.
  await viewer.send(xml('presence', { to: `${ROOM}/Juliet` }, xml('x', { xmlns: MUC })));
  const refused = await viewer.waitFor((s) => s.is('presence') && s.attrs.type === 'error', 5000, 'conflict');
  assert.is(errCond(refused), 'conflict');
  try {
    await viewer.iq(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: REGISTER })));
    assert.unreachable('viewer got a registration form');
  } catch (err) {
    assert.is((err as { condition?: string }).condition, 'not-allowed');
  }

  // Juliet joins from her laptop and her phone under the same nick: the owner sees one occupant, two sessions.
  await enter(juliet, 'Juliet');
  const phone = await connect('juliet', 'phone');
  await enter(phone, 'Juliet');
  const both = await romeo.waitFor(
    (s) =>
      s.is('presence') && s.attrs.from === `${ROOM}/Juliet` && s.getChild('x', USER)?.getChildren('item').length === 2,
    5000,
    'presence listing both sessions',
  );
  assert.equal(
    both
      .getChild('x', USER)
      .getChildren('item')
      .map((i: Stanza) => i.attrs.jid)
      .sort(),
    [juliet.jid, phone.jid].sort(),
  );
  await phone.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'from the phone')));
  const onLaptop = await juliet.waitFor(
    (s) => s.is('message') && s.getChildText('body') === 'from the phone',
    5000,
    'message on the laptop',
  );
  assert.is(onLaptop.attrs.from, `${ROOM}/Juliet`);

  // Deregistration: she stays in the room (open room) as an unaffiliated participant; the reservation is gone.
  await juliet.iq(xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: REGISTER }, xml('remove'))));
  const demoted = await romeo.waitFor(
    (s) =>
      s.is('presence') &&
      s.attrs.from === `${ROOM}/Juliet` &&
      s.getChild('x', USER)?.getChild('item')?.attrs.affiliation === 'none',
    5000,
    'presence with affiliation none',
  );
  assert.is(demoted.attrs.type, undefined);
  const none = await juliet.iq(
    xml(
      'iq',
      { type: 'get', to: ROOM },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: 'x-roomuser-item' }),
    ),
  );
  assert.is(none.getChild('query').getChild('identity'), undefined);
});

test.run();
