// Which room messages go into the archive (and history), and in what form: XEP-0313/0334 rules shared by the MUC
// service and the archive.
import { Element, cloneElement } from './xml.js';
import { NS } from './namespaces.js';

/** Payloads worth archiving even without a body (retractions, moderation, reactions, fastenings). */
const BODYLESS_KEEP: Array<[string, string]> = [
  ['retract', 'urn:xmpp:message-retract:1'],
  ['moderated', 'urn:xmpp:message-moderate:1'],
  ['apply-to', 'urn:xmpp:fasten:0'],
  ['reactions', 'urn:xmpp:reactions:0'],
  ['encrypted', 'eu.siacs.conversations.axolotl'],
];

/**
 * XEP-0313 §5.1.2 / XEP-0334: a groupchat message is archived when it has a body or a subject (or one of the
 * payloads above, or a <store/> hint), unless it carries <no-store/> or <no-permanent-store/>.
 * Private messages (type chat) never go into the room archive.
 */
export function isArchivable(msg: Element): boolean {
  if (msg.name !== 'message' || msg.attrs.type !== 'groupchat') return false;
  if (msg.getChild('no-store', NS.HINTS) || msg.getChild('no-permanent-store', NS.HINTS)) return false;
  const body = msg.getChild('body');
  if (body && body.getText() !== '') return true;
  if (msg.getChild('subject')) return true;
  if (msg.getChild('store', NS.HINTS)) return true;
  return BODYLESS_KEEP.some(([name, ns]) => msg.getChild(name, ns) !== undefined);
}

/**
 * The form a message is stored in: as broadcast by the room (from = occupant JID), without `to`, without any
 * muc#user <x> (XEP-0313 §7: a sender could spoof one; real JIDs are added back per reader from the archive
 * record) and without stanza-ids claiming to be the room's (the archive id is added when results are built).
 */
export function prepareForArchive(msg: Element, roomJid: string): string {
  const copy = cloneElement(msg);
  delete copy.attrs.to;
  copy.attrs.xmlns = NS.CLIENT;
  copy.children = copy.children.filter(
    (c) =>
      typeof c === 'string' ||
      !(
        (c.name === 'x' && c.attrs.xmlns === NS.MUC_USER) ||
        (c.name === 'stanza-id' && c.attrs.xmlns === NS.STANZA_ID && c.attrs.by === roomJid)
      ),
  );
  return copy.toString();
}
