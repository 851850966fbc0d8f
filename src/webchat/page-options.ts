// Page options carried in the query string, named as PeerTube livechat users know them
// (its "share chat link" dialog builds these URLs, e.g. for OBS overlays).

export interface PageOptions {
  /** `_readonly=true`: no composer, no nickname prompt (an OBS overlay); `noscroll` also hides the scrollbar. */
  readonly: false | 'true' | 'noscroll';
  /** `_transparent=true`: transparent page background, for overlays. */
  transparent: boolean;
  /**
   * `forcetype=1` (livechat's spelling; `_forcetype=true` also accepted): the room key names the room
   * directly (`channel.<id>` or a video UUID) instead of going through the instance's room-type setting.
   */
  forcetype: boolean;
  /** `force_default_hide_muc_participants=1`: start with the occupant list closed. */
  hideParticipants: boolean;
}

function truthy(v: string | null): boolean {
  return v === '1' || v === 'true';
}

export function parsePageOptions(search: URLSearchParams): PageOptions {
  const ro = search.get('_readonly');
  return {
    readonly: ro === 'true' || ro === '1' ? 'true' : ro === 'noscroll' ? 'noscroll' : false,
    transparent: truthy(search.get('_transparent')),
    forcetype: truthy(search.get('forcetype')) || truthy(search.get('_forcetype')),
    hideParticipants: truthy(search.get('force_default_hide_muc_participants')),
  };
}

/**
 * A room key usable as a MUC localpart (RFC 7622 §3.3 disallows these characters in localparts).
 * Kept deliberately strict: the key comes straight from a URL.
 */
export function isValidRoomKey(key: string): boolean {
  if (key.length === 0 || Buffer.byteLength(key, 'utf8') > 1023) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\s"&'/:<>@\u0000-\u001f\u007f]/u.test(key);
}
