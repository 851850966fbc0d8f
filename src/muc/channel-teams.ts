// Moderator teams per channel (the PeerTube plugin's API): a channel's team (bare JID → admin or owner) is given to
// every room of that channel, present and future, and taken back from those rooms when someone leaves the team.
// Only what the team granted is taken back: an affiliation set by hand in a room stays. Rooms name their channel
// in room.data (set by the creation seed or assignRoom); teams are saved in <dataDir>/muc-channel-teams.json.
import { join } from 'node:path';
import { JsonDocument } from '../storage/json-document.js';
import type { Hooks } from './hooks.js';
import type { MucEvents, Room } from './room.js';

export type TeamRole = 'admin' | 'owner';
export type Team = Record<string, TeamRole>;
type Granted = Record<string, TeamRole>;

export class ChannelTeams {
  private teams = new Map<string, Team>();
  private doc: JsonDocument<Record<string, Team>> | null;

  constructor(
    dataDir: string | null,
    hooks: Hooks<MucEvents>,
    private rooms: () => Iterable<Room>,
  ) {
    this.doc = dataDir ? new JsonDocument(join(dataDir, 'muc-channel-teams.json')) : null;
    hooks.on('created', ({ room }) => this.apply(room));
    hooks.on('restored', ({ room }) => this.apply(room));
  }

  async load(): Promise<void> {
    const saved = await this.doc?.read();
    for (const [channel, team] of Object.entries(saved ?? {})) this.teams.set(channel, team);
  }

  getTeam(channel: string): Team {
    return { ...(this.teams.get(channel) ?? {}) };
  }

  /** Replaces a channel's team and applies it to all its rooms. Roles other than admin/owner are refused. */
  setTeam(channel: string, team: Record<string, string>): void {
    const clean: Team = {};
    for (const [jid, role] of Object.entries(team)) {
      if (role !== 'admin' && role !== 'owner')
        throw new Error(`team of ${channel}: ${jid}: role must be admin or owner, not ${role}`);
      clean[jid.toLowerCase()] = role;
    }
    if (Object.keys(clean).length) this.teams.set(channel, clean);
    else this.teams.delete(channel);
    void this.doc?.save(Object.fromEntries(this.teams));
    for (const room of this.rooms()) if (room.data.channel === channel) this.apply(room);
  }

  /** Ties a room to a channel (or to none) and applies that channel's team. */
  assignRoom(room: Room, channel: string | null): void {
    if (channel === null) delete room.data.channel;
    else room.data.channel = channel;
    this.apply(room);
  }

  flush(): Promise<void> {
    return this.doc?.flush() ?? Promise.resolve();
  }

  private apply(room: Room): void {
    const channel = room.data.channel as string | undefined;
    const team = channel ? (this.teams.get(channel) ?? {}) : {};
    const granted = { ...((room.data.teamGranted as Granted | undefined) ?? {}) };
    for (const [bare, role] of Object.entries(team)) {
      const current = room.affiliationOf(bare);
      // Never lower someone: an owner stays owner when the team says admin.
      if (current !== role && !(current === 'owner' && role === 'admin')) {
        room.setAffiliation(bare, role, { reason: 'Channel moderation team' });
        granted[bare] = role;
      } else if (granted[bare]) granted[bare] = role;
    }
    for (const [bare, role] of Object.entries(granted)) {
      if (team[bare]) continue;
      if (room.affiliations.get(bare)?.affiliation === role)
        room.setAffiliation(bare, 'none', { reason: 'Left the channel moderation team' });
      delete granted[bare];
    }
    if (Object.keys(granted).length) room.data.teamGranted = granted;
    else delete room.data.teamGranted;
    room.host.persist(room);
  }
}
