// Moderator tasks and notes on livechat's wire (mod_pubsub_peertubelivechat), with @xmpp/client: pubsub on the
// room JID for owners/admins only, first task list on node creation, notifications, persistence, and access that
// ends with the affiliation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ServerPerTest,
  HOST,
  configure,
  expectError,
  joinRoom,
  setAffiliation,
  xml,
  type Stanza,
  type TestClient,
} from './room-client.js';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const TASK = 'urn:peertube-plugin-livechat:task';
const TASKLIST = 'urn:peertube-plugin-livechat:tasklist';
const NOTE = 'urn:peertube-plugin-livechat:note';
const ROOM = `live@${HOST}`;

const fx = new ServerPerTest(test);
const clients = fx.clients;

const ps = (c: TestClient, type: 'get' | 'set', child: Stanza) =>
  c.iq(xml('iq', { type, to: ROOM }, xml('pubsub', { xmlns: PUBSUB }, child)));
const subscribe = (c: TestClient, node: string) => ps(c, 'set', xml('subscribe', { node, jid: c.jid.split('/')[0] }));
const items = async (c: TestClient, node: string) =>
  (await ps(c, 'get', xml('items', { node })))
    .getChild('pubsub', PUBSUB)
    .getChild('items')
    .getChildren('item') as Stanza[];
const publish = (c: TestClient, node: string, payload: Stanza, id?: string) =>
  ps(c, 'set', xml('publish', { node }, xml('item', id ? { id } : {}, payload)));
const eventItems = (node: string) => (s: Stanza) =>
  s.is('message') &&
  s.attrs.type === 'headline' &&
  s.attrs.from === ROOM &&
  s.getChild('event', EVENT)?.getChild('items')?.attrs.node === node;

async function setup() {
  const owner = await clients.user('owner');
  const mod = await clients.user('mod');
  const alice = await clients.user('alice');
  for (const c of [owner, mod, alice]) await c.send(xml('presence'));
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': 'My live' });
  await setAffiliation(owner, 'live', 'mod@localhost', 'admin');
  await joinRoom(mod, 'live', 'Mod');
  await joinRoom(alice, 'live', 'Alice');
  return { owner, mod, alice };
}

test('disco shows the task and note features; a participant gets forbidden', async () => {
  const { alice } = await setup();
  const info = await alice.iq(
    xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  const vars = info
    .getChild('query')
    .getChildren('feature')
    .map((f: Stanza) => f.attrs.var);
  for (const f of [TASK, TASKLIST, NOTE]) assert.ok(vars.includes(f), f);
  await expectError(subscribe(alice, 'livechat-tasks'), 'forbidden');
  await expectError(ps(alice, 'get', xml('items', { node: 'livechat-notes' })), 'forbidden');
  await expectError(
    publish(alice, 'livechat-notes', xml('note', { xmlns: NOTE }, xml('description', {}, 'x'))),
    'forbidden',
  );
});

test('tasks: the node starts with a task list named after the room; publish and retract reach subscribed admins', async () => {
  const { owner, mod } = await setup();
  await subscribe(owner, 'livechat-tasks');
  await subscribe(mod, 'livechat-tasks');
  const first = await items(mod, 'livechat-tasks');
  assert.is(first.length, 1);
  assert.is(first[0].getChild('tasklist', TASKLIST).getChildText('name'), 'My live');
  const listId = first[0].attrs.id;
  const res = await publish(
    owner,
    'livechat-tasks',
    xml('task', { xmlns: TASK, list: listId, order: '0' }, xml('name', {}, 'Check the mic')),
  );
  const taskId = res.getChild('pubsub', PUBSUB).getChild('publish').getChild('item').attrs.id;
  assert.ok(taskId);
  const ev = await mod.waitFor(eventItems('livechat-tasks'), 5000, 'publish notification');
  const evItem = ev.getChild('event', EVENT).getChild('items').getChild('item');
  assert.is(evItem.attrs.id, taskId);
  assert.is(evItem.getChild('task', TASK).getChildText('name'), 'Check the mic');
  // Update in place with the same id.
  await publish(
    mod,
    'livechat-tasks',
    xml('task', { xmlns: TASK, list: listId, order: '0', done: 'true' }, xml('name', {}, 'Check the mic')),
    taskId,
  );
  const now = await items(owner, 'livechat-tasks');
  assert.is(now.length, 2);
  assert.is(now.find((i) => i.attrs.id === taskId)!.getChild('task', TASK).attrs.done, 'true');
  await ps(owner, 'set', xml('retract', { node: 'livechat-tasks', notify: '1' }, xml('item', { id: taskId })));
  await mod.waitFor(
    (s) =>
      eventItems('livechat-tasks')(s) &&
      s.getChild('event', EVENT).getChild('items').getChild('retract')?.attrs.id === taskId,
    5000,
    'retract notification',
  );
  assert.is((await items(owner, 'livechat-tasks')).length, 1);
  await expectError(
    ps(owner, 'set', xml('retract', { node: 'livechat-tasks' }, xml('item', { id: 'nope' }))),
    'item-not-found',
  );
  await expectError(ps(owner, 'get', xml('items', { node: 'livechat-nothing' })), 'item-not-found');
  await expectError(
    ps(owner, 'set', xml('publish', { node: 'livechat-notes' }, xml('item', { id: 'empty' }))),
    'bad-request',
  );
});

test('notes persist across a restart; losing admin ends access and notifications', async () => {
  const { owner, mod } = await setup();
  await subscribe(mod, 'livechat-notes');
  await publish(
    owner,
    'livechat-notes',
    xml('note', { xmlns: NOTE }, xml('description', {}, 'Alice is a regular')),
    'n1',
  );
  await mod.waitFor(eventItems('livechat-notes'), 5000, 'note notification');
  await setAffiliation(owner, 'live', 'mod@localhost', 'member');
  await expectError(items(mod, 'livechat-notes'), 'forbidden');
  await publish(owner, 'livechat-notes', xml('note', { xmlns: NOTE }, xml('description', {}, 'second')), 'n2');
  await owner.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  await mod.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.is(mod.received.filter(eventItems('livechat-notes')).length, 1, 'no notification after losing admin');

  await fx.restart();
  const owner2 = await clients.user('owner');
  const got = await items(owner2, 'livechat-notes');
  assert.equal(
    got.map((i) => i.attrs.id),
    ['n1', 'n2'],
  );
  assert.is(got[0].getChild('note', NOTE).getChildText('description'), 'Alice is a regular');
});

test.run();
