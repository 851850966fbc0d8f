// XEP-0153 avatar hashes in occupants' presences and XEP-0054 vCards for room/nick answered by the room itself
// from the avatar service (a pre-serialized vCard), instead of forwarding each request to the occupant's account.
// An occupant whose own client advertises a photo keeps it: its presence is left alone and vCard requests are
// forwarded as before.
//
// The hash is in the presence from the join on without delaying it: computed avatars are composed synchronously
// from the parts' masks (made at build time), so their SHA-1 is known at once. A provider avatar (PeerTube
// account) that is not cached yet is fetched in the background; the occupant shows its computed avatar meanwhile
// and its presence is published again, once, when the provider's image is ready.
import { el, type Element } from '../../xmpp/xml.js';
import { NS } from '../../xmpp/namespaces.js';
import type { AvatarService, Avatar } from '../../avatars/service.js';
import type { Occupant } from '../occupant.js';
import type { Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

function isUpdateX(c: Element | string): c is Element {
  return typeof c !== 'string' && c.name === 'x' && c.attrs.xmlns === NS.VCARD_UPDATE;
}

/** The photo hash the occupant's own client advertises, if any. */
function ownHash(occ: Occupant): string | undefined {
  const x = occ.primary?.presence?.children.find(isUpdateX);
  return x?.getChildText('photo')?.trim() || undefined;
}

export function install({ hooks, avatars }: FeatureContext): void {
  if (!avatars) return;
  const service: AvatarService = avatars;
  const refreshing = new WeakSet<Occupant>();

  /** The provider's or bot's avatar when the occupant has one, else undefined (computed from its seed). */
  const specialAvatar = (room: Room, occ: Occupant): Avatar | undefined => {
    if (service.isBot(occ.bareJid)) return service.bot();
    if (service.hasProvider && service.isAccount(occ.bareJid)) {
      const own = service.accountAvatar(occ.bareJid);
      if (own) return own;
      if (!service.accountKnown(occ.bareJid) && !refreshing.has(occ)) {
        refreshing.add(occ);
        void service.loadAccount(occ.bareJid).then((a) => {
          refreshing.delete(occ);
          if (!a || room.occupants.get(occ.nick) !== occ || room.destroyed) return;
          occ.invalidate();
          room.presence.publish(occ);
        });
      }
    }
    return undefined;
  };
  const seedOf = (occ: Occupant) =>
    service.config.seed === 'nick' ? occ.nick : (service.anonymousSeed(occ.bareJid) ?? occ.occupantId);
  const avatarFor = (room: Room, occ: Occupant): Avatar | undefined =>
    specialAvatar(room, occ) ?? service.forSeed(seedOf(occ));
  // Presences only need the hash: an idle occupant's PNG is kept only a little while (the service's fresh cache).
  const hashFor = (room: Room, occ: Occupant): string | undefined =>
    specialAvatar(room, occ)?.hash ?? service.hashForSeed(seedOf(occ));

  // An occupant's vCard answer is prepared once for every viewer who asks (the service keeps it): dropped when the
  // occupant leaves, made again after a nick change or a new avatar.
  hooks.on('leave', ({ occupant }) => service.forgetAnswer(occupant));

  hooks.on('presence-out', ({ room, occupant, stanza }) => {
    if (stanza.attrs.type === 'unavailable' || ownHash(occupant)) return;
    const hash = hashFor(room, occupant);
    if (!hash) return;
    // The client's empty <x/> ("no avatar to advertise") is replaced by ours; the element itself is shared with
    // the client's stored presence, so it is dropped from this copy, not edited.
    stanza.children = stanza.children.filter((c) => !isUpdateX(c));
    stanza.append(el('x', { xmlns: NS.VCARD_UPDATE }, el('photo', {}, hash)));
  });

  hooks.on('occupant-iq', ({ room, stanza, from, payload, sender, target }) => {
    if (stanza.attrs.type !== 'get' || !payload?.is('vCard', MUC_NS.VCARD)) return;
    if (!sender || !target || ownHash(target)) return; // the room's own rules and forwarding apply
    const avatar = avatarFor(room, target);
    if (!avatar) return;
    const to = from.toString();
    const { id, to: occupantJid } = stanza.attrs;
    // The same bytes for every viewer who asks; only the request's id and the requester's JID are spliced in.
    if (
      id !== undefined &&
      room.router.deliverPrepared(to, service.vcardAnswer(target, occupantJid!, avatar).withId(id))
    )
      return true;
    room.router.route(el('iq', { type: 'result', id, from: occupantJid, to }, avatar.vcard));
    return true;
  });
}
