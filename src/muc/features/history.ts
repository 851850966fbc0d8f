// Discussion history on join (XEP-0045 §7.2.15): the latest messages from the archive's in-memory tail, limited by
// the room's history length and the joiner's <history maxstanzas maxchars seconds since/>. Each stored message is
// serialized once with its <delay/> and reused for every joiner.
import { PreparedStanza } from '../../xmpp/prepared.js';
import { cloneElement, el, type Element } from '../../xmpp/xml.js';
import type { ArchiveEntry } from '../archive.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';
import { submitValue } from './util.js';

const prepared = new WeakMap<Element, PreparedStanza>();

function withDelay(entry: ArchiveEntry, roomJid: string): PreparedStanza {
  let p = prepared.get(entry.stanza);
  if (!p) {
    const copy = cloneElement(entry.stanza);
    copy.append(el('delay', { xmlns: MUC_NS.DELAY, stamp: new Date(entry.ts).toISOString(), from: roomJid }));
    p = new PreparedStanza(copy);
    prepared.set(entry.stanza, p);
  }
  return p;
}

function intAttr(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export function install({ hooks, archive, config }: FeatureContext): void {
  hooks.on(
    'join',
    (ev) => {
      const { room, session } = ev;
      if (!session) return;
      const h = ev.x?.getChild('history');
      let max = room.config.historyLength;
      const maxStanzas = intAttr(h?.attrs.maxstanzas);
      if (maxStanzas !== undefined) max = Math.min(max, maxStanzas);
      if (max <= 0) return;
      let entries = archive.tail(room.jid, max);
      const seconds = intAttr(h?.attrs.seconds);
      let sinceMs = seconds !== undefined ? Date.now() - seconds * 1000 : undefined;
      if (h?.attrs.since) {
        const t = Date.parse(h.attrs.since);
        if (!Number.isNaN(t)) sinceMs = Math.max(sinceMs ?? 0, t);
      }
      if (sinceMs !== undefined) entries = entries.filter((e) => e.ts > sinceMs!);
      const maxChars = intAttr(h?.attrs.maxchars);
      let list = entries.map((e) => withDelay(e, room.jid));
      if (maxChars !== undefined) {
        // Keep the newest messages whose serialized size fits the budget.
        let used = 0;
        let start = list.length;
        while (start > 0) {
          const size = list[start - 1].forClient(session.full).length;
          if (used + size > maxChars) break;
          used += size;
          start--;
        }
        list = list.slice(start);
      }
      for (const p of list) room.deliverToSession(session, p);
    },
    20,
  );

  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: 'muc#roomconfig_historylength',
        type: 'text-single',
        label: 'Maximum number of history messages returned by room',
        values: [String(room.config.historyLength)],
      });
    },
    25,
  );
  hooks.on('config-submitted', (ev) => {
    submitValue(ev, 'muc#roomconfig_historylength', 'historyLength', (s) => {
      const n = Number(s);
      return Number.isInteger(n) && n >= 0 ? Math.min(n, config.maxHistoryLength) : undefined;
    });
  });
}
