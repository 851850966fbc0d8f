// Moderator tasks and notes, on livechat's wire (mod_pubsub_peertubelivechat): XEP-0060 nodes addressed at the room
// JID (`livechat-tasks`, `livechat-notes`), open only to the room's owners and admins, and closed again as soon as
// the affiliation goes. Only the subset livechat's front-end uses: publish (nodes created on first use), retract,
// items, subscribe/unsubscribe and headline notifications. Items live in room.data (saved with the room);
// subscriptions do not survive a restart, clients subscribe again when they open the app.
import { randomUUID } from 'node:crypto';
import { StanzaError } from '../../xmpp/errors.js';
import { parseJid, bareString, type JID } from '../../xmpp/jid.js';
import { cloneElement, el, type Element } from '../../xmpp/xml.js';
import { parse } from 'ltx';
import { newStanzaId } from '../archive.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';

export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
const PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const LIVECHAT_NS = {
  TASKLIST: 'urn:peertube-plugin-livechat:tasklist',
  TASK: 'urn:peertube-plugin-livechat:task',
  NOTE: 'urn:peertube-plugin-livechat:note',
};
const MAX_ITEMS = 5000;

interface StoredItem {
  id: string;
  xml: string;
}
interface Node {
  items: StoredItem[];
}
type Nodes = Record<string, Node>;

/** Room → node → subscribed JIDs (in memory only). */
const subscriptions = new WeakMap<Room, Map<string, Set<string>>>();

function nodesOf(room: Room): Nodes {
  let n = room.data.pubsub as Nodes | undefined;
  if (!n) room.data.pubsub = n = {};
  return n;
}

function subsOf(room: Room, node: string): Set<string> {
  let m = subscriptions.get(room);
  if (!m) subscriptions.set(room, (m = new Map()));
  let s = m.get(node);
  if (!s) m.set(node, (s = new Set()));
  return s;
}

function requirePublisher(room: Room, bare: string): void {
  const aff = room.affiliationOf(bare);
  if (aff !== 'owner' && aff !== 'admin') throw new StanzaError('forbidden', undefined, 'auth');
}

function requireNodeName(name: string | undefined): string {
  if (!name) throw new StanzaError('bad-request', 'Missing node', 'modify');
  return name;
}

function notify(room: Room, node: string, child: Element): void {
  const subs = subscriptions.get(room)?.get(node);
  if (!subs?.size) return;
  const m = el(
    'message',
    { from: room.jid, type: 'headline', id: newStanzaId() },
    el('event', { xmlns: PUBSUB_EVENT }, el('items', { node }, child)),
  );
  for (const jid of subs) {
    const copy = cloneElement(m);
    copy.attrs.to = jid;
    room.router.route(copy);
  }
}

/** Stores an item (replacing one with the same id) and tells the subscribers. */
function publish(room: Room, node: string, id: string, payload: Element): void {
  const nodes = nodesOf(room);
  if (!nodes[node]) createNode(room, node);
  const items = nodes[node].items;
  const at = items.findIndex((i) => i.id === id);
  if (at >= 0) items.splice(at, 1);
  items.push({ id, xml: payload.toString() });
  if (items.length > MAX_ITEMS) items.splice(0, items.length - MAX_ITEMS);
  room.host.persist(room);
  notify(room, node, el('item', { id }, cloneElement(payload)));
}

function createNode(room: Room, node: string): void {
  nodesOf(room)[node] = { items: [] };
  // A new task node starts with one task list named after the room, as livechat does.
  if (node === 'livechat-tasks') {
    publish(
      room,
      node,
      randomUUID(),
      el('tasklist', { xmlns: LIVECHAT_NS.TASKLIST }, el('name', {}, room.config.name || room.localpart)),
    );
  }
  room.host.persist(room);
}

function unsubscribeEverywhere(room: Room, bare: string): void {
  const m = subscriptions.get(room);
  if (!m) return;
  for (const set of m.values()) {
    for (const jid of [...set]) {
      const j = parseJid(jid);
      if (j && bareString(j) === bare) set.delete(jid);
    }
  }
}

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('pubsub', PUBSUB_NS, 'set', ({ room, from, payload }) => {
    const bare = bareString(from);
    requirePublisher(room, bare);
    const op = payload.getChildElements().find((c) => c.name !== 'publish-options');
    if (!op) throw new StanzaError('bad-request', undefined, 'modify');
    const node = requireNodeName(op.attrs.node);
    switch (op.name) {
      case 'publish': {
        const items = op.getChildren('item');
        if (items.length !== 1) throw new StanzaError('bad-request', 'Exactly one item must be published', 'modify');
        const children = items[0].getChildElements();
        if (children.length !== 1)
          throw new StanzaError('bad-request', 'An item carries exactly one payload', 'modify');
        const id = items[0].attrs.id || randomUUID();
        publish(room, node, id, children[0]);
        return el('pubsub', { xmlns: PUBSUB_NS }, el('publish', { node }, el('item', { id })));
      }
      case 'retract': {
        const id = op.getChild('item')?.attrs.id;
        if (!id) throw new StanzaError('bad-request', 'Item id required', 'modify');
        const n = nodesOf(room)[node];
        if (!n) throw new StanzaError('item-not-found', undefined, 'cancel');
        const at = n.items.findIndex((i) => i.id === id);
        if (at < 0) throw new StanzaError('item-not-found', undefined, 'cancel');
        n.items.splice(at, 1);
        room.host.persist(room);
        if (op.attrs.notify === '1' || op.attrs.notify === 'true') notify(room, node, el('retract', { id }));
        return;
      }
      case 'subscribe': {
        const jid = op.attrs.jid ? parseJid(op.attrs.jid) : from;
        if (!jid) throw new StanzaError('jid-malformed', undefined, 'modify');
        // One may only subscribe oneself (XEP-0060 §6.1.3.1).
        if (bareString(jid) !== bare) throw new StanzaError('bad-request', 'JIDs do not match', 'modify');
        if (!nodesOf(room)[node]) createNode(room, node);
        subsOf(room, node).add(jid.toString());
        return el(
          'pubsub',
          { xmlns: PUBSUB_NS },
          el('subscription', { node, jid: jid.toString(), subscription: 'subscribed' }),
        );
      }
      case 'unsubscribe': {
        const jid = op.attrs.jid ? parseJid(op.attrs.jid) : from;
        if (!jid || bareString(jid) !== bare) throw new StanzaError('bad-request', 'JIDs do not match', 'modify');
        if (!subsOf(room, node).delete(jid.toString()))
          throw new StanzaError('unexpected-request', 'Not subscribed', 'cancel');
        return;
      }
      default:
        throw new StanzaError('feature-not-implemented', undefined, 'cancel');
    }
  });

  iq.register('pubsub', PUBSUB_NS, 'get', ({ room, from, payload }) => {
    requirePublisher(room, bareString(from));
    const op = payload.getChildElements()[0];
    if (op?.name !== 'items') throw new StanzaError('feature-not-implemented', undefined, 'cancel');
    const node = requireNodeName(op.attrs.node);
    const n = nodesOf(room)[node];
    if (!n) throw new StanzaError('item-not-found', undefined, 'cancel');
    const wanted = new Set(
      op
        .getChildren('item')
        .map((i) => i.attrs.id)
        .filter(Boolean),
    );
    const out = el('items', { node });
    for (const it of n.items)
      if (wanted.size === 0 || wanted.has(it.id)) out.append(el('item', { id: it.id }, parse(it.xml) as Element));
    return el('pubsub', { xmlns: PUBSUB_NS }, out);
  });

  // Nobody owns these nodes: configuration and deletion are not offered.
  const noOwner = ({ room, from }: { room: Room; from: JID }) => {
    requirePublisher(room, bareString(from));
    throw new StanzaError('forbidden', undefined, 'auth');
  };
  iq.register('pubsub', PUBSUB_OWNER, 'get', noOwner);
  iq.register('pubsub', PUBSUB_OWNER, 'set', noOwner);

  hooks.on('leave', ({ room, occupant }) => {
    if (room.occupantsOf(occupant.bareJid).length === 0) unsubscribeEverywhere(room, occupant.bareJid);
  });
  hooks.on('affiliation-changed', ({ room, bareJid, newAffiliation }) => {
    if (newAffiliation !== 'owner' && newAffiliation !== 'admin') unsubscribeEverywhere(room, bareJid);
  });
  hooks.on('destroyed', ({ room }) => {
    subscriptions.delete(room);
  });
  hooks.on('disco-info', ({ features }) => {
    features.add(LIVECHAT_NS.TASK);
    features.add(LIVECHAT_NS.TASKLIST);
    features.add(LIVECHAT_NS.NOTE);
  });
}
