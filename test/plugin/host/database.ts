// PeerTube's data as the plugin sees it: users, accounts, channels and videos in memory, and the answers to the SQL
// the plugin sends through peertubeHelpers.database.query (Sequelize's query(sql, { replacements, type })). Only
// the statements known here are answered; any other one throws, so a new query in the plugin fails a test loudly.

export interface HostUser {
  id: number;
  username: string;
  role: 0 | 1 | 2;
  blocked: boolean;
  token: string;
}
/** ActorImageModel as PeerTube loads it with an account (type 1: avatar), served at /lazy-static/avatars/<filename>. */
export interface HostActorImage {
  filename: string;
  width: number;
  height: number;
  type: 1;
  onDisk: boolean;
  fileUrl: string | null;
}
export interface HostAccount {
  id: number;
  userId: number;
  name: string;
  avatars: HostActorImage[];
}
/** `name` is PeerTube's videoChannel.name, the display name; `handle` the channel actor's preferredUsername. */
export interface HostChannel {
  id: number;
  accountId: number;
  name: string;
  handle?: string;
}
export interface HostVideo {
  id: number;
  uuid: string;
  name: string;
  isLive: boolean;
  remote: boolean;
  channelId: number;
}

export class HostDatabase {
  users: HostUser[] = [];
  accounts: HostAccount[] = [];
  channels: HostChannel[] = [];
  videos: HostVideo[] = [];
  readonly statements: string[] = [];

  addUser(username: string, role: 0 | 1 | 2, displayName = username): { user: HostUser; channel: HostChannel } {
    const id = this.users.length + 1;
    const user: HostUser = { id, username, role, blocked: false, token: `token-${username}-${id}` };
    this.users.push(user);
    const account: HostAccount = { id: this.accounts.length + 1, userId: id, name: displayName, avatars: [] };
    this.accounts.push(account);
    const channel: HostChannel = { id: this.channels.length + 1, accountId: account.id, name: `${username}_channel` };
    this.channels.push(channel);
    return { user, channel };
  }

  addVideo(name: string, channelId: number, isLive: boolean, uuid: string): HostVideo {
    const v: HostVideo = { id: this.videos.length + 1, uuid, name, isLive, remote: false, channelId };
    this.videos.push(v);
    return v;
  }

  /** What VideoModel.load(id) gives a plugin: model fields, channelId but no channel/owner. */
  loadVideo(idOrUuid: number | string): Record<string, unknown> | undefined {
    const v = this.videos.find((x) => x.id === Number(idOrUuid) || x.uuid === idOrUuid);
    if (!v) return undefined;
    return { ...v, isLocal: () => !v.remote, isOwned: () => !v.remote };
  }

  /** UserModel.loadByIdFull: the user with its Account. */
  loadUser(id: number): Record<string, unknown> | undefined {
    const u = this.users.find((x) => x.id === id);
    if (!u) return undefined;
    const account = this.accounts.find((a) => a.userId === u.id);
    // loadByIdFull: Account → Actor → Avatars (several sizes of the same picture).
    const Account = account
      ? {
          id: account.id,
          userId: account.userId,
          name: account.name,
          Actor: { Avatars: account.avatars.map((a) => ({ ...a })) },
        }
      : undefined;
    return { id: u.id, username: u.username, role: u.role, blocked: u.blocked, Account };
  }

  async query(sql: string, opts: { replacements?: Record<string, unknown>; type?: string } = {}): Promise<unknown> {
    this.statements.push(sql);
    const r = opts.replacements ?? {};
    const norm = sql.replace(/\s+/g, ' ').trim();
    let rows: unknown[];
    if (/FROM "account" WHERE "account"\."userId" = :userId/.test(norm)) {
      rows = this.accounts.filter((a) => a.userId === Number(r.userId)).map((a) => ({ name: a.name }));
    } else if (
      /FROM "videoChannel" INNER JOIN "account" .* INNER JOIN "user" .* WHERE "videoChannel"\."id" = :channelId/.test(
        norm,
      )
    ) {
      rows = this.channels
        .filter((c) => c.id === Number(r.channelId))
        .flatMap((c) => {
          const account = this.accounts.find((a) => a.id === c.accountId);
          const user = this.users.find((u) => u.id === account?.userId);
          return user ? [{ username: user.username, channelName: c.name }] : [];
        });
    } else if (
      /FROM "videoChannel" INNER JOIN "actor" ON "actor"\."videoChannelId" = "videoChannel"\."id" INNER JOIN "account" .* INNER JOIN "user" .* WHERE "videoChannel"\."id" = :channelId/.test(
        norm,
      )
    ) {
      // PeerTube 8's actor ↔ channel link; local channels only (an account with a user).
      rows = this.channels
        .filter((c) => c.id === Number(r.channelId))
        .flatMap((c) => {
          const account = this.accounts.find((a) => a.id === c.accountId);
          const user = this.users.find((u) => u.id === account?.userId);
          return user
            ? [
                {
                  id: c.id,
                  displayName: c.name,
                  ownerAccountId: c.accountId,
                  name: c.handle ?? `${user.username}_channel`,
                },
              ]
            : [];
        });
    } else if (/SELECT "user"\."id" AS "id" FROM "user" WHERE lower\("user"\."username"\) = :username/.test(norm)) {
      rows = this.users.filter((u) => u.username.toLowerCase() === String(r.username)).map((u) => ({ id: u.id }));
    } else if (/FROM "user" WHERE "user"\."role" IN \(0, 1\)/.test(norm)) {
      rows = this.users.filter((u) => u.role === 0 || u.role === 1).map((u) => ({ username: u.username }));
    } else {
      throw new Error(`emulated database: unknown statement: ${norm}`);
    }
    // Sequelize: QueryTypes.SELECT gives the rows; without a type, [rows, metadata].
    return opts.type === 'SELECT' ? rows : [rows, rows.length];
  }
}
