// Namespaces and disco features of MAM (XEP-0313) on rooms: shared by the MUC service and the archive.
export const MAM_NS = 'urn:xmpp:mam:2';
export const MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
/** Livechat's owner/admin archive search (occupant JID or occupant-id), answered like a MAM query. */
export const MAM_SEARCH_NS = 'urn:xmpp:mam:2#x-search';
/** Custom query field (Clark notation, XEP-0068) filtering by XEP-0421 occupant-id, for owners/admins. */
export const OCCUPANT_ID_FIELD = '{urn:xmpp:occupant-id:0}occupant-id';

/**
 * Features a room with archiving enabled adds to its disco#info. The search feature is what livechat's
 * front-end checks before offering "search this participant's messages" to owners and admins.
 */
export const MAM_ROOM_FEATURES: readonly string[] = [MAM_NS, MAM_EXTENDED, MAM_SEARCH_NS];
