// The body of the channel moderator team route: { team: [{ user, role }] } where `user` is a local PeerTube
// username ("bob") or an XMPP address ("bob@other.example", a viewer from a federated instance), and `role` is
// "admin" (moderates every room of the channel) or "owner" (also configures them). Local usernames must exist.
export type TeamRole = 'admin' | 'owner';
export interface TeamEntry {
  user: string;
  role: TeamRole;
}

export const MAX_TEAM = 100;
const USERNAME = /^[a-z0-9._-]{1,64}$/;
const BARE_JID = /^[^\s@/"&'<>:]{1,1023}@[a-z0-9.-]{1,253}$/;

export class TeamError extends Error {}

/** Validates the body into entries and the bare JIDs they stand for (local users on `host`). */
export async function sanitizeTeam(
  body: unknown,
  host: string,
  userExists: (username: string) => Promise<boolean>,
): Promise<{ entries: TeamEntry[]; team: Record<string, TeamRole> }> {
  const fail = (m: string): never => {
    throw new TeamError(m);
  };
  const raw = body && typeof body === 'object' ? (body as { team?: unknown }).team : undefined;
  if (!Array.isArray(raw)) fail('the body must be { team: [{ user, role }] }');
  const list = raw as unknown[];
  if (list.length > MAX_TEAM) fail(`team: at most ${MAX_TEAM} people, got ${list.length}`);
  const entries: TeamEntry[] = [];
  const team: Record<string, TeamRole> = {};
  for (const [i, e] of list.entries()) {
    const at = `team[${i}]`;
    if (!e || typeof e !== 'object') fail(`${at}: must be an object { user, role }`);
    const { user, role } = e as { user?: unknown; role?: unknown };
    if (typeof user !== 'string' || user.trim() === '')
      fail(`${at}.user: a PeerTube username or an XMPP address is required`);
    if (role !== 'admin' && role !== 'owner')
      fail(`${at}.role: must be "admin" or "owner", got ${JSON.stringify(role)}`);
    const name = (user as string).trim().toLowerCase();
    let jid: string;
    if (name.includes('@')) {
      if (!BARE_JID.test(name))
        fail(`${at}.user: ${JSON.stringify(user)} is not an XMPP address like name@example.org`);
      jid = name;
      const [local, domain] = name.split('@');
      if (domain === host && !(await userExists(local))) fail(`${at}.user: no user ${local} on this instance`);
    } else {
      if (!USERNAME.test(name)) fail(`${at}.user: ${JSON.stringify(user)} is not a PeerTube username`);
      if (!(await userExists(name))) fail(`${at}.user: no user ${name} on this instance`);
      jid = `${name}@${host}`;
    }
    if (team[jid]) fail(`${at}.user: ${jid} is listed twice`);
    team[jid] = role as TeamRole;
    entries.push({ user: name, role: role as TeamRole });
  }
  return { entries, team };
}

/** The stored team as the page shows it: local users by username, others by address. */
export function teamEntries(team: Record<string, string>, host: string): TeamEntry[] {
  return Object.entries(team).map(([jid, role]) => ({
    user: jid.endsWith(`@${host}`) ? jid.slice(0, -host.length - 1) : jid,
    role: role as TeamRole,
  }));
}
