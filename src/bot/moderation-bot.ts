// livechat's moderation bot, in-process: a local session of its own domain (bot.<domain>) that joins the rooms
// named in livechat's room files as an ordinary occupant and acts through the same stanzas a client would
// (groupchat messages, XEP-0425 moderation). Room files are re-read when they change.
import { parse } from 'ltx';
import { parseJid, type JID } from '../xmpp/jid.js';
import type { Element } from '../xmpp/xml.js';
import type { Component, LocalSession } from '../xmpp/session-types.js';
import type { Router } from '../xmpp/router.js';
import type { Logger } from '../log.js';
import type { MucService } from '../muc/service.js';
import { AFF_RANK } from '../muc/types.js';
import { join } from 'node:path';
import type { BotConfig } from './config.js';
import { watchConfDir } from './conf-dir.js';
import { parseRoomConf, type RoomConf } from './room-conf.js';
import { BotRoom } from './bot-room.js';

export class ModerationBot {
  private rooms = new Map<string, BotRoom>();
  /** Room local part → its configuration; file name → room local part (to handle removals). */
  private confs = new Map<string, RoomConf>();
  private files = new Map<string, string>();
  private session: LocalSession;
  private component: Component;
  private stopWatching: (() => void) | null = null;
  private readonly bare: string;

  constructor(
    private cfg: BotConfig,
    private router: Router,
    private muc: MucService,
    private log: Logger,
  ) {
    this.bare = cfg.jid;
    const jid = parseJid(`${cfg.jid}/bot`) as JID;
    const dispatch = (s: Element) => this.onStanza(s);
    this.session = {
      jid,
      fullJid: jid.toString(),
      bareJid: this.bare,
      available: true,
      priority: 0,
      carbons: false,
      anonymous: false,
      send: dispatch,
      sendRaw: (xml: string) => dispatch(parse(xml) as Element),
    };
    this.component = { domain: jid.domain, receive: dispatch };
  }

  async start(): Promise<void> {
    this.router.registerComponent(this.component);
    this.router.bind(this.session);
    // Rooms created later (a new live) are joined as soon as they exist.
    this.muc.hooks.on('created', ({ room }) => {
      if (this.confs.get(room.localpart)?.enabled) setImmediate(() => this.sync(room.localpart));
    });
    this.stopWatching = await watchConfDir(join(this.cfg.dir, 'rooms'), (file, json, error) =>
      this.onFile(file, json, error),
    );
  }

  stop(): void {
    this.stopWatching?.();
    for (const r of this.rooms.values()) r.leave();
    this.rooms.clear();
    this.router.unbind(this.session);
    this.router.unregisterComponent(this.component.domain);
  }

  /** Rooms the bot is in (local parts), for tests and status. */
  joinedRooms(): string[] {
    return [...this.rooms.keys()];
  }

  private onFile(file: string, json: unknown | null, error?: string): void {
    if (error !== undefined) {
      this.log.warn(`bot: ${file}: ${error}`);
      return;
    }
    if (json === null) {
      const local = this.files.get(file);
      this.files.delete(file);
      if (local) {
        this.confs.delete(local);
        this.sync(local);
      }
      return;
    }
    let conf: RoomConf;
    try {
      conf = parseRoomConf(json, (m) => this.log.warn(`bot: ${file}: ${m}`));
    } catch (err) {
      this.log.warn(`bot: ${file}: ${(err as Error).message}`);
      return;
    }
    if (conf.domain !== this.muc.domain) {
      this.log.warn(`bot: ${file}: room on ${conf.domain}, not on this MUC host (${this.muc.domain})`);
      return;
    }
    this.files.set(file, conf.local);
    this.confs.set(conf.local, conf);
    this.sync(conf.local);
  }

  /** Brings one room in line with its configuration: join, re-apply handlers, rename or leave. */
  private sync(local: string): void {
    const conf = this.confs.get(local);
    let br = this.rooms.get(local);
    const room = this.muc.getRoom(local);
    if (!conf || !conf.enabled || !room || room.destroyed) {
      if (br) {
        br.leave();
        this.rooms.delete(local);
      }
      return;
    }
    const nick = conf.nick ?? this.cfg.nick;
    if (!br) {
      // The bot moderates: it needs at least admin in the room, as livechat gives it.
      if (AFF_RANK[room.affiliationOf(this.bare)] < AFF_RANK.admin) room.setAffiliation(this.bare, 'admin');
      br = new BotRoom(
        room.jid,
        nick,
        (s) => this.sendOut(s),
        (m) => this.log.warn(`bot: ${m}`),
      );
      this.rooms.set(local, br);
      br.apply(conf);
      br.join();
      return;
    }
    br.apply(conf);
    br.setNick(nick);
  }

  private sendOut(s: Element): void {
    s.attrs.from = this.session.fullJid;
    this.router.route(s, this.session);
  }

  private onStanza(s: Element): void {
    // Only the room is needed: its bare address (few) is memoized, not each occupant's (one per nick that speaks).
    const from = parseJid(s.attrs.from?.split('/', 1)[0]);
    if (!from || from.domain !== this.muc.domain || !from.local) return;
    const br = this.rooms.get(from.local);
    if (!br) return;
    br.onStanza(s);
    // Our room went away (destroyed): forget it; a new room of the same name is joined when created.
    if (
      !br.online &&
      s.name === 'presence' &&
      s.attrs.type === 'unavailable' &&
      s.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('destroy')
    ) {
      br.stopHandlers();
      this.rooms.delete(from.local);
    }
  }
}
