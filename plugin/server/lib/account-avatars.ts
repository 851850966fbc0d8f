// PeerTube account avatars for the chat server's avatar provider: the account's image as PeerTube serves it
// (/lazy-static/avatars/<file>); the server fetches, shrinks and caches it per JID.

/** The part of PeerTube's user (UserModel.loadByIdFull) that carries the account avatars. */
export interface UserWithAvatars {
  Account?: { Actor?: { Avatars?: Array<{ filename?: string; width?: number }> } };
}

/** The smallest avatar at least 48 px wide (chat avatars are 60 px), else the largest, as a public URL. */
export function accountAvatarUrl(user: UserWithAvatars | undefined | null, webserverUrl: string): string | undefined {
  const list = (user?.Account?.Actor?.Avatars ?? []).filter(
    (a) => typeof a.filename === 'string' && /^[\w.-]+$/.test(a.filename),
  );
  if (!list.length) return undefined;
  const bySize = [...list].sort((a, b) => (a.width ?? 0) - (b.width ?? 0));
  const pick = bySize.find((a) => (a.width ?? 0) >= 48) ?? bySize[bySize.length - 1];
  return `${webserverUrl}/lazy-static/avatars/${pick.filename}`;
}
