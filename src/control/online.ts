// Admin verbs answered by the running server (through the admin channel): they change the rooms and accounts it
// holds in memory, so occupants see a destroyed room go and a new password works at once.
import type { AccountStore } from '../auth/accounts.js';
import type { MucService } from '../muc/service.js';
import type { AdminHandler, AdminReply } from './channel.js';
import { roomLocalpart } from './room-name.js';

export interface OnlineAdminDeps {
  domain: string;
  muc: MucService;
  /** The server's own account store (null when an application checks logins). */
  accounts(): AccountStore | null;
  /** Resolves once room files and archive deletions are on disk. */
  settled(): Promise<void>;
}

/** Verbs the channel answers; anything else is refused (the command line runs it offline). */
export const ONLINE_VERBS = ['rooms', 'destroy', 'adduser', 'passwd', 'deluser', 'listusers'] as const;

export function onlineAdmin(deps: OnlineAdminDeps): AdminHandler {
  const { muc } = deps;
  const ok = (...lines: string[]): AdminReply => ({ status: 0, lines });
  const fail = (...lines: string[]): AdminReply => ({ status: 1, lines });
  return async (req) => {
    switch (req.verb) {
      case 'ping':
        return ok('pong');
      case 'rooms': {
        const lines: string[] = [];
        const all = [...muc.rooms.values()].sort((a, b) => a.localpart.localeCompare(b.localpart));
        for (const r of all.filter((x) => x.config.persistent)) {
          const owners = [...r.affiliations].filter(([, a]) => a.affiliation === 'owner').map(([j]) => j);
          lines.push(
            `${r.jid}${r.config.name ? ` "${r.config.name}"` : ''}${owners.length ? ` owners: ${owners.join(', ')}` : ''}` +
              `${r.occupantCount ? ` (${r.occupantCount} occupants)` : ''}`,
          );
        }
        if (!lines.length) lines.push('no persistent rooms');
        for (const r of all.filter((x) => !x.config.persistent))
          lines.push(`${r.jid} (temporary, ${r.occupantCount} occupants)`);
        return ok(...lines);
      }
      case 'destroy': {
        const name = req.args[0];
        if (!name) return { status: 2, lines: ['destroy needs a ROOM'] };
        const lp = roomLocalpart(name, muc.domain);
        const jid = `${lp}@${muc.domain}`;
        if (!muc.destroyRoom(lp, req.args[1])) return fail(`no room ${jid}`);
        await deps.settled();
        return ok(`room ${jid} destroyed (occupants told, configuration, affiliations and archive removed)`);
      }
      case 'listusers':
      case 'adduser':
      case 'passwd':
      case 'deluser': {
        const store = deps.accounts();
        if (!store) return fail('this server does not keep its own accounts (an application checks logins)');
        if (req.verb === 'listusers') return ok(...store.list().map((u) => `${u}@${deps.domain}`));
        const user = req.args[0]?.toLowerCase();
        if (!user) return { status: 2, lines: [`${req.verb} needs a USERNAME`] };
        if (req.verb === 'deluser') {
          const removed = await store.remove(user);
          await store.flush();
          return removed ? ok(`account ${user}@${deps.domain} removed`) : fail(`no account ${user}@${deps.domain}`);
        }
        if (req.verb === 'passwd' && !store.userExists(user)) return fail(`error: no account ${user}@${deps.domain}`);
        if (!req.password) return { status: 2, lines: ['the password is empty'] };
        await store.setPassword(user, req.password);
        await store.flush();
        return ok(
          req.verb === 'passwd' ? `password of ${user}@${deps.domain} changed` : `account ${user}@${deps.domain} saved`,
        );
      }
      default:
        return { status: 2, lines: [`the running server does not answer "${req.verb}"`] };
    }
  };
}
