// Moderator tasks and notes side by side with livechat's Prosody (mod_pubsub_peertubelivechat): the pubsub
// exchanges livechat's front-end makes give the same answers and notifications on both servers.
import { test } from 'uvu';
import { sideBySide } from '../helpers/livechat-prosody.js';
import { xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { TIMEOUT, configure, join, nextId, roomJid, setAffiliation, bare } from './helpers.js';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const TASK = 'urn:peertube-plugin-livechat:task';
const TASKLIST = 'urn:peertube-plugin-livechat:tasklist';
const NOTE = 'urn:peertube-plugin-livechat:note';

async function attempt(p: Promise<Stanza>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { condition?: string }).condition ?? String(e);
  }
}

test('subscribe, first task list, publish, notifications, retract, access for owners/admins only', async () => {
  await sideBySide('tasks and notes', async (t) => {
    const room = roomJid(t, 'taskroom');
    const owner = await t.user('streamer');
    const mod = await t.user('mod');
    const alice = await t.user('alice');
    for (const c of [owner, mod, alice]) await c.send(xml('presence'));
    await join(owner, room, 'Streamer');
    await configure(owner, room, { 'muc#roomconfig_roomname': 'My live' });
    await setAffiliation(owner, room, bare(mod.jid), 'admin');
    await join(mod, room, 'Mod');
    await join(alice, room, 'Alice');
    const ps = (c: TestClient, type: string, child: Stanza) =>
      c.iq(xml('iq', { type, to: room, id: nextId('ps') }, xml('pubsub', { xmlns: PUBSUB }, child)), TIMEOUT);
    const items = async (c: TestClient, node: string) =>
      (await ps(c, 'get', xml('items', { node })))
        .getChild('pubsub', PUBSUB)
        .getChild('items')
        .getChildren('item') as Stanza[];
    const isEvent = (node: string) => (s: Stanza) =>
      s.is('message') && s.getChild('event', EVENT)?.getChild('items')?.attrs.node === node;

    const aliceSub = await attempt(
      ps(alice, 'set', xml('subscribe', { node: 'livechat-tasks', jid: bare(alice.jid) })),
    );
    const emptyNotes = await attempt(ps(owner, 'get', xml('items', { node: 'livechat-notes' })));
    const sub = await ps(mod, 'set', xml('subscribe', { node: 'livechat-tasks', jid: bare(mod.jid) }));
    const subscription = sub.getChild('pubsub', PUBSUB).getChild('subscription');
    const first = await items(owner, 'livechat-tasks');
    const listId = first[0].attrs.id;
    const pub = await ps(
      owner,
      'set',
      xml(
        'publish',
        { node: 'livechat-tasks' },
        xml('item', {}, xml('task', { xmlns: TASK, list: listId, order: '1' }, xml('name', {}, 'Check mic'))),
      ),
    );
    const taskId = pub.getChild('pubsub', PUBSUB).getChild('publish').getChild('item').attrs.id;
    const ev = await mod.waitFor(isEvent('livechat-tasks'), TIMEOUT, 'notification');
    await ps(owner, 'set', xml('retract', { node: 'livechat-tasks', notify: '1' }, xml('item', { id: taskId })));
    const rev = await mod.waitFor(
      (s) => isEvent('livechat-tasks')(s) && !!s.getChild('event', EVENT).getChild('items').getChild('retract'),
      TIMEOUT,
      'retract',
    );
    await ps(
      owner,
      'set',
      xml(
        'publish',
        { node: 'livechat-notes' },
        xml('item', { id: 'n1' }, xml('note', { xmlns: NOTE }, xml('description', {}, 'hi'))),
      ),
    );
    const notes = await items(mod, 'livechat-notes');
    await setAffiliation(owner, room, bare(mod.jid), 'member');
    const afterDemotion = await attempt(ps(mod, 'get', xml('items', { node: 'livechat-notes' })));
    return {
      aliceSub,
      emptyNotes,
      subscription: {
        node: subscription.attrs.node,
        subscription: subscription.attrs.subscription,
        jid: subscription.attrs.jid === bare(mod.jid),
      },
      first: first.map((i) => i.getChild('tasklist', TASKLIST)?.getChildText('name')),
      taskIdGiven: !!taskId,
      event: {
        type: ev.attrs.type,
        from: ev.attrs.from === room,
        id: ev.getChild('event', EVENT).getChild('items').getChild('item').attrs.id === taskId,
        name: ev
          .getChild('event', EVENT)
          .getChild('items')
          .getChild('item')
          .getChild('task', TASK)
          ?.getChildText('name'),
      },
      retract: rev.getChild('event', EVENT).getChild('items').getChild('retract').attrs.id === taskId,
      remaining: (await items(owner, 'livechat-tasks')).length,
      notes: notes.map((i) => `${i.attrs.id}:${i.getChild('note', NOTE)?.getChildText('description')}`),
      afterDemotion,
    };
  });
});

test.run();
