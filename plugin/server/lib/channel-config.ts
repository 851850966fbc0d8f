// What a channel's options (channelConfigurationOptions/<id>.json) do to its rooms, where livechat does it:
// - a new room starts with the channel's slow mode, muted anonymous viewers, moderation delay and anonymized
//   moderation (livechat's room defaults), and gets the bot file made from the options if it has none yet;
// - saving the options rewrites the bot file and the terms of every existing room of the channel (livechat leaves
//   the other settings of existing rooms to their owners, and so does this).
import { join } from 'node:path';
import type { LivechatRuntime } from './runtime.js';
import {
  defaultChannelOptions,
  readChannelOptionsFile,
  roomDefaultsOf,
  type ChannelOptions,
} from './channel-options.js';
import { writeBotRoomConf } from './channel-bot-conf.js';

export class ChannelConfiguration {
  constructor(private readonly r: LivechatRuntime) {}

  private get mucHost(): string {
    return `room.${this.r.place.host}`;
  }
  private get botDir(): string {
    return join(this.r.place.dataDir, 'bot', this.mucHost);
  }

  /** livechat's `enable-users-regexp` setting (regular-expression word lists); off unless saved as true. */
  async usersRegexp(): Promise<boolean> {
    return (await this.r.o.settingsManager.getSetting('enable-users-regexp')) === true;
  }

  /** The channel's saved options; null when none (or unreadable: logged, the room goes on with the defaults). */
  async options(channelId: number): Promise<ChannelOptions | null> {
    try {
      return await readChannelOptionsFile(this.r.place.dataDir, channelId, await this.usersRegexp());
    } catch (err) {
      this.r.log.warn(`livechat: channel ${channelId} options unusable: ${(err as Error)?.message ?? err}`);
      return null;
    }
  }

  /** Room settings a new room of the channel starts with. */
  async roomDefaults(channelId: number): Promise<Record<string, unknown>> {
    return roomDefaultsOf((await this.options(channelId)) ?? defaultChannelOptions());
  }

  /** Localparts of the stored rooms that belong to the channel. */
  async roomsOf(channelId: number): Promise<string[]> {
    const out: string[] = [];
    for (const lp of [...this.r.server.muc.rooms.keys()])
      if ((await this.r.roomChannelId(lp)) === channelId) out.push(lp);
    return out;
  }

  /** A room just created: its bot file from the channel's options, unless livechat already left one. */
  async roomCreated(localpart: string, channelId: number): Promise<void> {
    if (this.r.settings.disableChannelConfiguration) return;
    const o = await this.options(channelId);
    if (o) await writeBotRoomConf(this.botDir, localpart, this.mucHost, o, { onlyIfMissing: true });
  }

  /** The options were saved: every existing room of the channel gets the new terms and bot file. */
  async saved(channelId: number, o: ChannelOptions): Promise<void> {
    for (const lp of await this.roomsOf(channelId)) {
      try {
        this.r.server.muc.setRoomTerms(lp, o.terms ?? '');
        await writeBotRoomConf(this.botDir, lp, this.mucHost, o);
      } catch (err) {
        this.r.log.warn(
          `livechat: cannot apply channel ${channelId} options to ${lp}: ${(err as Error)?.message ?? err}`,
        );
      }
    }
  }
}
