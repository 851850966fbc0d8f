// Room disco (XEP-0045 §6.4): identity, the features every setting contributes, and the muc#roominfo form with the
// occupant count; the x-roomuser-item node tells a user its reserved nickname (§7.10). Occupants are not listed in
// disco#items: in a live-stream room that is thousands of items and the viewers' privacy.
import { el, escapeXMLText, type Element } from '../../xmpp/xml.js';
import { PreSerializedElement } from '../../xmpp/prepared.js';
import { buildForm, type FormField } from '../forms.js';
import { MUC_NS } from '../types.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';
import { bareString } from '../../xmpp/jid.js';

/**
 * A room's last disco#info answer as text, cut where its volatile values go. Every viewer asks before joining, and
 * ConverseJS asks again on each 104 (a rename reaches every viewer at once); building and serializing the ~2.4 KB
 * answer cost ~20 µs each time (`npm run bench:iq`). The hooks still say what the answer holds on every request, so
 * nothing in it can go stale: only the serialization is reused while they say the same, and the occupant counts,
 * which change with every join, are spliced in.
 */
interface CachedInfo {
  key: string;
  /** The answer's text around its volatile values (one more piece than there are volatile fields). */
  pieces: string[];
}
const cachedInfo = new WeakMap<Room, CachedInfo>();
/** Stands for a volatile value while the answer is serialized: U+0000 cannot be in XML, so in nothing else. */
const SPLICE = '\u0000';

function buildInfo(name: string, features: readonly string[], fields: FormField[], node?: string): Element {
  const q = el(
    'query',
    { xmlns: MUC_NS.DISCO_INFO, node },
    el('identity', { category: 'conference', type: 'text', name }),
  );
  for (const f of features) q.append(el('feature', { var: f }));
  q.append(buildForm('result', MUC_NS.ROOMINFO, fields));
  return q;
}

/** The answer for what the hooks said, from the room's cached text when they said the same as last time. */
function roomInfo(room: Room, name: string, features: string[], fields: FormField[], node?: string): Element {
  // A volatile field with other than one value has no single place to splice: answered without the cache.
  if (fields.some((f) => f.volatile && f.values?.length !== 1)) return buildInfo(name, features, fields, node);
  // Everything that shapes the text, volatile values left out.
  const key = JSON.stringify([name, node, features, fields.map((f) => (f.volatile ? { ...f, values: 1 } : f))]);
  let cached = cachedInfo.get(room);
  if (cached?.key !== key) {
    const marked = fields.map((f) => (f.volatile ? { ...f, values: [SPLICE] } : f));
    const pieces = buildInfo(name, features, marked, node).toString().split(SPLICE);
    // A U+0000 that came from elsewhere (a room name set by the host): answered without the cache.
    if (pieces.length !== fields.filter((f) => f.volatile).length + 1) return buildInfo(name, features, fields, node);
    cachedInfo.set(room, (cached = { key, pieces }));
  }
  let xml = cached.pieces[0]!;
  let i = 1;
  for (const f of fields) if (f.volatile) xml += escapeXMLText(f.values![0]!) + cached.pieces[i++]!;
  return PreSerializedElement.textOnly(
    'query',
    node === undefined ? { xmlns: MUC_NS.DISCO_INFO } : { xmlns: MUC_NS.DISCO_INFO, node },
    xml,
  );
}

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('query', MUC_NS.DISCO_INFO, 'get', ({ room, payload, from }) => {
    const node = payload.attrs.node;
    if (node === 'x-roomuser-item') {
      const q = el('query', { xmlns: MUC_NS.DISCO_INFO, node });
      const nick = room.affiliations.get(bareString(from))?.nick;
      if (nick) q.append(el('identity', { category: 'conference', name: nick, type: 'text' }));
      return q;
    }
    const features = new Set<string>([MUC_NS.MUC, MUC_NS.STABLE_ID, MUC_NS.DISCO_INFO, MUC_NS.DISCO_ITEMS]);
    const fields: FormField[] = [];
    hooks.fire('disco-info', { room, features, fields, from: from.toString() });
    fields.push({
      var: 'muc#roominfo_occupants',
      label: 'Number of occupants',
      values: [String(room.occupantCount)],
      volatile: true,
    });
    return roomInfo(room, room.config.name || room.localpart, [...features].sort(), fields, node);
  });
  iq.register('query', MUC_NS.DISCO_ITEMS, 'get', ({ payload }) =>
    el('query', { xmlns: MUC_NS.DISCO_ITEMS, node: payload.attrs.node }),
  );
}
