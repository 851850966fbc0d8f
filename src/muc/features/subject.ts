// Room subject (XEP-0045 §8.1): sent last on join; changed by a groupchat message with <subject/> and neither body
// nor thread (Prosody issue 667: anything else is an ordinary message). muc#roomconfig_changesubject lets
// participants change it; moderators always may.
import { StanzaError } from '../../xmpp/errors.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { el } from '../../xmpp/xml.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'join',
    ({ room, session }) => {
      if (!session) return;
      const s = room.subject;
      const from = s.nick ? room.nickJid(s.nick) : room.jid;
      const m = el('message', { from, type: 'groupchat' }, el('subject', {}, s.text || undefined));
      room.deliverToSession(session, new PreparedStanza(m));
    },
    10,
  );

  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      const subject = stanza.getChild('subject');
      if (!subject || stanza.getChild('body') || stanza.getChild('thread')) return;
      const allowed = occupant.role === 'moderator' || (room.config.changeSubject && occupant.role === 'participant');
      if (!allowed) throw new StanzaError('forbidden', 'You are not allowed to change the subject', 'auth');
      room.subject = { text: subject.getText(), nick: occupant.nick, ts: Date.now() };
      const m = el(
        'message',
        { from: room.nickJid(occupant.nick), type: 'groupchat', id: stanza.attrs.id },
        el('subject', {}, room.subject.text || undefined),
      );
      room.broadcast(new PreparedStanza(m));
      room.host.persist(room);
      return true;
    },
    90,
  );

  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        boolField('muc#roomconfig_changesubject', "Allow anyone to set the room's subject", room.config.changeSubject),
      );
    },
    70,
  );
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, 'muc#roomconfig_changesubject', 'changeSubject');
  });
  hooks.on('disco-info', ({ room, fields }) => {
    fields.push({ var: 'muc#roominfo_subject', label: 'Subject', values: [room.subject.text] });
    fields.push({
      var: 'muc#roominfo_subjectmod',
      type: 'boolean',
      label: "Allow anyone to set the room's subject",
      values: [room.config.changeSubject ? '1' : '0'],
    });
  });
}
