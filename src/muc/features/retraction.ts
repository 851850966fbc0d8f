// Message retraction. XEP-0425 moderation in both forms clients use today: v0 (<apply-to xmlns=fasten:0> with
// <moderate xmlns=message-moderate:0>, which the livechat front-end sends) and the current <moderate
// xmlns=message-moderate:1>. The announcement carries both forms so every client understands it; the stored message
// becomes a tombstone so later joiners and archive readers do not see it. XEP-0424 retraction by the author passes
// through and tombstones the author's own message.
import { StanzaError } from '../../xmpp/errors.js';
import { el, type Element } from '../../xmpp/xml.js';
import { newStanzaId, type ArchiveEntry } from '../archive.js';
import type { Occupant } from '../occupant.js';
import type { ModerateMessageEvent, Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

/** XEP-0425 v1 `<moderated>`: who moderated, with their occupant id when known. */
function moderatedV1(by: string | undefined, byOccupantId: string | undefined): Element {
  return el(
    'moderated',
    { xmlns: MUC_NS.MODERATE_1, by },
    byOccupantId ? el('occupant-id', { xmlns: MUC_NS.OCCUPANT_ID, id: byOccupantId }) : undefined,
  );
}

/** The current form of a moderated message's tombstone: XEP-0424 v1 `<retracted>` holding the v1 `<moderated>`. */
export function retractedByModerator(
  stamp: string | undefined,
  by: string | undefined,
  byOccupantId: string | undefined,
  reason: string | undefined,
): Element {
  return el(
    'retracted',
    { xmlns: MUC_NS.RETRACT_1, stamp },
    moderatedV1(by, byOccupantId),
    reason ? el('reason', {}, reason) : undefined,
  );
}

function tombstone(
  entry: ArchiveEntry,
  by: string | undefined,
  byOccupantId: string | undefined,
  reason: string | undefined,
): Element {
  const stamp = new Date().toISOString();
  const t = el('message', { from: entry.stanza.attrs.from, type: 'groupchat', id: entry.stanza.attrs.id });
  if (by) {
    t.append(
      el(
        'moderated',
        { xmlns: MUC_NS.MODERATE_0, by, stamp },
        el('retracted', { xmlns: MUC_NS.RETRACT_0, stamp }),
        reason ? el('reason', {}, reason) : undefined,
      ),
    );
    t.append(retractedByModerator(stamp, by, byOccupantId, reason));
  } else {
    t.append(el('retracted', { xmlns: MUC_NS.RETRACT_1, stamp }));
  }
  for (const c of entry.stanza.getChildElements()) {
    if (
      (c.name === 'stanza-id' && c.attrs.xmlns === MUC_NS.SID) ||
      (c.name === 'occupant-id' && c.attrs.xmlns === MUC_NS.OCCUPANT_ID)
    )
      t.append(c);
  }
  return t;
}

function moderate(
  room: Room,
  moderator: Occupant | undefined,
  id: string | undefined,
  reason: string | undefined,
): void | Promise<void> {
  if (!moderator || moderator.role !== 'moderator') throw new StanzaError('forbidden', undefined, 'auth');
  if (!id) throw new StanzaError('bad-request', undefined, 'modify');
  const archive = room.host.archive;
  const entry = archive.get(room.jid, id);
  if (entry) return applyModeration(room, moderator, id, entry, reason);
  if (!archive.lookup) throw new StanzaError('item-not-found', undefined, 'cancel');
  // Older than the in-memory tail: the durable archive reads it from disk first.
  return archive.lookup(room.jid, id).then((old) => {
    if (!old) throw new StanzaError('item-not-found', undefined, 'cancel');
    if (moderator.role !== 'moderator') throw new StanzaError('forbidden', undefined, 'auth');
    applyModeration(room, moderator, id, old, reason);
  });
}

function applyModeration(
  room: Room,
  moderator: Occupant,
  id: string,
  entry: ArchiveEntry,
  reason: string | undefined,
): void {
  // Features see the action first: moderation delay cancels a pending delivery, anonymization hides the moderator.
  const ev: ModerateMessageEvent = {
    room,
    moderator,
    stanzaId: id,
    reason,
    by: room.nickJid(moderator.nick),
    byOccupantId: moderator.occupantId,
  };
  room.hooks.fire('moderate-message', ev);
  const { by, byOccupantId } = ev;
  room.host.archive.retract(room.jid, id, tombstone(entry, by, byOccupantId, reason));
  const reasonEl = () => (reason ? el('reason', {}, reason) : undefined);
  room.broadcastRoomMessage(
    [
      el(
        'apply-to',
        { xmlns: MUC_NS.FASTEN, id },
        el('moderated', { xmlns: MUC_NS.MODERATE_0, by }, el('retract', { xmlns: MUC_NS.RETRACT_0 }), reasonEl()),
      ),
      el('retract', { xmlns: MUC_NS.RETRACT_1, id }, moderatedV1(by, byOccupantId), reasonEl()),
      el('body', {}, reason ? `This message has been moderated: ${reason}` : 'This message has been moderated'),
      el('store', { xmlns: 'urn:xmpp:hints' }),
    ],
    { id: newStanzaId() },
  );
}

export function install({ hooks, iq, archive }: FeatureContext): void {
  // Current form: <moderate id=… xmlns=urn:xmpp:message-moderate:1><retract xmlns=…:1/><reason/></moderate>
  iq.register('moderate', MUC_NS.MODERATE_1, 'set', ({ room, payload, occupant }) => {
    if (!payload.getChild('retract', MUC_NS.RETRACT_1)) throw new StanzaError('bad-request', undefined, 'modify');
    return moderate(room, occupant, payload.attrs.id, payload.getChildText('reason') ?? undefined);
  });
  // v0: <apply-to id=… xmlns=urn:xmpp:fasten:0><moderate xmlns=…:0><retract xmlns=message-retract:0/><reason/></moderate></apply-to>
  iq.register('apply-to', MUC_NS.FASTEN, 'set', ({ room, payload, occupant }) => {
    const m = payload.getChild('moderate', MUC_NS.MODERATE_0);
    if (!m || !m.getChild('retract', MUC_NS.RETRACT_0)) throw new StanzaError('bad-request', undefined, 'modify');
    return moderate(room, occupant, payload.attrs.id, m.getChildText('reason') ?? undefined);
  });

  // XEP-0424 by the author: allowed for the author's own messages only, then relayed as usual.
  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      const r1 = stanza.getChild('retract', MUC_NS.RETRACT_1);
      const a0 = stanza.getChild('apply-to', MUC_NS.FASTEN);
      const id = r1?.attrs.id ?? (a0?.getChild('retract', MUC_NS.RETRACT_0) ? a0.attrs.id : undefined);
      if (!id) return;
      const entry = archive.get(room.jid, id);
      if (!entry) {
        // Older than memory: relay at once (clients check authorship themselves) and tombstone the archived
        // message once the archive confirms the author.
        void archive.lookup?.(room.jid, id).then(
          (old) => {
            if (old && old.realJid === occupant.bareJid)
              archive.retract(room.jid, id, tombstone(old, undefined, undefined, undefined));
          },
          () => undefined,
        );
        return;
      }
      if (entry.realJid !== occupant.bareJid)
        throw new StanzaError('forbidden', 'You can only retract your own messages', 'auth');
      archive.retract(room.jid, id, tombstone(entry, undefined, undefined, undefined));
    },
    60,
  );

  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_NS.MODERATE_0);
    features.add(MUC_NS.MODERATE_1);
    features.add(MUC_NS.RETRACT_0);
    features.add(MUC_NS.RETRACT_1);
  });
}
