// Archived messages as query results: their memory estimate, the `with` filter, and RSM pages over a small
// materialized set. Pure functions over ArchivedMessage, used by RoomArchive.
import type { StoredRecord } from './record.js';
import type { ArchiveResult, ArchivedMessage, WithFilter } from './types.js';

export function msgBytes(m: ArchivedMessage): number {
  return (
    2 * (m.xml.length + m.nick.length + m.id.length + (m.occupantId?.length ?? 0) + (m.realJid?.length ?? 0)) + 120
  );
}

export function toMessage(r: StoredRecord): ArchivedMessage {
  const m: ArchivedMessage = { id: r.id, seq: r.seq, ts: r.ts, nick: r.nick, xml: r.xml };
  if (r.occupantId !== undefined) m.occupantId = r.occupantId;
  if (r.realJid !== undefined) m.realJid = r.realJid;
  return m;
}

function bareOf(jid: string): string {
  const i = jid.indexOf('/');
  return i < 0 ? jid : jid.slice(0, i);
}

export function compileWith(w: WithFilter): (m: ArchivedMessage) => boolean {
  const jid = w.realJid?.toLowerCase();
  const jidIsBare = jid !== undefined && !jid.includes('/');
  return (m) =>
    (w.nick !== undefined && m.nick === w.nick) ||
    (w.occupantId !== undefined && m.occupantId === w.occupantId) ||
    (jid !== undefined &&
      m.realJid !== undefined &&
      (jidIsBare ? bareOf(m.realJid).toLowerCase() === jid : m.realJid.toLowerCase() === jid));
}

export function result(
  items: ArchivedMessage[],
  complete: boolean,
  count: number | undefined,
  index: number | undefined,
): ArchiveResult {
  const r: ArchiveResult = { items, complete };
  if (items.length) {
    r.first = items[0].id;
    r.last = items[items.length - 1].id;
  }
  if (count !== undefined) r.count = count;
  if (index !== undefined && items.length) r.index = index;
  return r;
}

/** RSM paging over a small, already materialized result set (the `ids` field). */
export function pageInMemory(
  all: ArchivedMessage[],
  max: number,
  after: number | undefined,
  before: number | undefined,
  backward: boolean,
  index: number | undefined,
): ArchiveResult {
  let from: number;
  let to: number;
  if (backward) {
    let end = all.length;
    if (before !== undefined)
      end = all.findIndex((m) => m.seq >= before) < 0 ? all.length : all.findIndex((m) => m.seq >= before);
    to = end - 1;
    from = Math.max(0, to - max + 1);
  } else {
    from = after !== undefined ? all.findIndex((m) => m.seq > after) : (index ?? 0);
    if (from < 0) from = all.length;
    to = Math.min(all.length - 1, from + max - 1);
  }
  const items = max > 0 && to >= from ? all.slice(from, to + 1) : [];
  const complete = backward ? from <= 0 : to >= all.length - 1;
  return result(items, complete, all.length, items.length ? from : undefined);
}
