// XEP-0359: every message kept in history/archive gets a room-assigned <stanza-id by=room/> (the archive assigns
// it); the sender's <origin-id/> passes through untouched. Runs last so the archived copy is the broadcast one.
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export function install({ hooks, archive }: FeatureContext): void {
  hooks.on(
    'groupchat-out',
    (ev) => {
      if (!ev.historic) return;
      ev.stanzaId = archive.append(ev.room.jid, {
        ts: Date.now(),
        nick: ev.occupant.nick,
        realJid: ev.occupant.bareJid,
        occupantId: ev.occupant.occupantId,
        stanza: ev.stanza,
        persist: ev.room.config.enableArchiving,
      });
    },
    -100,
  );
  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_NS.SID);
  });
}
