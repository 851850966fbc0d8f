// The room features, one file each, installed on a service's hook bus. Adding a feature (slow mode, mute
// anonymous…) is a new file and one line here.
import * as roomInfo from './room-info.js';
import * as persistent from './persistent.js';
import * as password from './password.js';
import * as membersOnly from './members-only.js';
import * as moderated from './moderated.js';
import * as whois from './whois.js';
import * as presenceBroadcast from './presence-broadcast.js';
import * as maxUsers from './max-users.js';
import * as allowPm from './allow-pm.js';
import * as chatStates from './chat-states.js';
import * as history from './history.js';
import * as subject from './subject.js';
import * as occupantId from './occupant-id.js';
import * as stanzaId from './stanza-id.js';
import * as selfPing from './self-ping.js';
import * as reservedNicks from './reserved-nicks.js';
import * as register from './register.js';
import * as admin from './admin.js';
import * as owner from './owner.js';
import * as disco from './disco.js';
import * as retraction from './retraction.js';
import * as mam from './mam.js';
import * as invites from './invites.js';
import * as voiceRequest from './voice-request.js';
import * as roomVcard from './room-vcard.js';
import * as polls from './polls.js';
import * as terms from './terms.js';
import * as roomPubsub from './room-pubsub.js';
import * as temporaryBan from './temporary-ban.js';
import * as ipBan from './ip-ban.js';
import * as pinnedMessage from './pinned-message.js';
import * as occupantCount from './occupant-count.js';
import * as visibleOccupants from './visible-occupants.js';
import * as avatars from './avatars.js';
import * as slowMode from './slow-mode.js';
import * as moderationDelay from './moderation-delay.js';
import * as anonymizeModeration from './anonymize-moderation.js';
import * as muteAnonymous from './mute-anonymous.js';
import * as emojiOnly from './emoji-only.js';
import * as announcements from './announcements.js';
import type { FeatureContext } from './util.js';

export type { FeatureContext } from './util.js';
export type { MucMamHandler, MucMamRequest } from './mam.js';

export const FEATURES = [
  roomInfo,
  persistent,
  password,
  membersOnly,
  moderated,
  whois,
  presenceBroadcast,
  maxUsers,
  allowPm,
  chatStates,
  history,
  subject,
  occupantId,
  stanzaId,
  selfPing,
  reservedNicks,
  register,
  admin,
  owner,
  disco,
  retraction,
  mam,
  invites,
  voiceRequest,
  roomVcard,
  avatars,
  slowMode,
  moderationDelay,
  anonymizeModeration,
  muteAnonymous,
  emojiOnly,
  announcements,
  polls,
  terms,
  roomPubsub,
  temporaryBan,
  ipBan,
  pinnedMessage,
  visibleOccupants,
  occupantCount,
];

export function installFeatures(ctx: FeatureContext): void {
  for (const f of FEATURES) f.install(ctx);
}
