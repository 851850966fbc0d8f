// Occupant ids of rooms imported from Prosody: Prosody derives them as base64(HMAC-SHA256(key = real bare JID,
// message = room salt)). A room imported with its Prosody salt (stored as `prosody:<salt>`) keeps deriving them that
// way, so a user has the same occupant id in the old archive and after the switch (moderation by occupant id, clients
// grouping a person's messages).
import { createHmac } from 'node:crypto';

export const PROSODY_SALT_PREFIX = 'prosody:';

/** The occupant id Prosody gives `bare` in a room whose salt is `salt` (without the prefix). */
export function prosodyOccupantId(salt: string, bare: string): string {
  return createHmac('sha256', bare).update(salt).digest('base64');
}
