// Fake-session harness for MUC tests: a real Router with capturing LocalSessions, the MUC service registered on it.
import { parse } from 'ltx';
import { Router } from '../../src/xmpp/router.js';
import { IqRegistry } from '../../src/xmpp/iq-registry.js';
import { parseJid, type JID } from '../../src/xmpp/jid.js';
import type { Element } from '../../src/xmpp/xml.js';
import type { LocalSession } from '../../src/xmpp/session-types.js';
import { silentLogger } from '../../src/log.js';
import { createMucService, type MucService, type MucServiceDeps } from '../../src/muc/service.js';
import { defaultMucConfig, type MucConfig } from '../../src/muc/config.js';

export const HOST = 'conference.localhost';

export class FakeSession implements LocalSession {
  readonly jid: JID;
  readonly fullJid: string;
  readonly bareJid: string;
  available = true;
  priority = 0;
  carbons = false;
  anonymous = false;
  received: Element[] = [];
  constructor(
    full: string,
    private router: Router,
  ) {
    this.jid = parseJid(full)!;
    this.fullJid = full;
    this.bareJid = this.jid.bare().toString();
  }
  send(stanza: Element): void {
    this.received.push(parse(stanza.toString()));
  }
  sendRaw(xml: string): void {
    this.received.push(parse(xml));
  }

  /** Sends a stanza from this session (as the c2s layer would, with a verified from). */
  out(xml: string | Element): void {
    const s = typeof xml === 'string' ? parse(xml) : xml;
    s.attrs.from = this.fullJid;
    this.router.route(s, this);
  }
  /** Takes everything received so far. */
  take(): Element[] {
    const r = this.received;
    this.received = [];
    return r;
  }
  /** Takes received stanzas matching a predicate (leaves others). */
  takeWhere(pred: (e: Element) => boolean): Element[] {
    const hit = this.received.filter(pred);
    this.received = this.received.filter((e) => !pred(e));
    return hit;
  }
}

export interface Harness {
  router: Router;
  muc: MucService;
  session(full: string): FakeSession;
}

export async function harness(
  opts: { config?: Partial<MucConfig>; deps?: Partial<MucServiceDeps> } = {},
): Promise<Harness> {
  const router = new Router(new IqRegistry(), silentLogger);
  router.addUserHost('localhost');
  router.addUserHost('anon.localhost');
  const config: MucConfig = { ...defaultMucConfig('localhost'), host: HOST, ...opts.config };
  const muc = createMucService({ router, log: silentLogger, config, dataDir: null, ...opts.deps });
  await muc.start();
  return {
    router,
    muc,
    session(full) {
      const s = new FakeSession(full, router);
      router.bind(s);
      return s;
    },
  };
}

export const tick = () => new Promise((r) => setImmediate(r));

export function join(s: FakeSession, room: string, nick: string, extra = ''): void {
  s.out(`<presence to="${room}@${HOST}/${nick}"><x xmlns="http://jabber.org/protocol/muc">${extra}</x></presence>`);
}

export function codes(p: Element): string[] {
  const x = p.getChild('x', 'http://jabber.org/protocol/muc#user');
  return (x?.getChildren('status') ?? []).map((s) => s.attrs.code);
}

export function item(p: Element): Element | undefined {
  return p.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item');
}

export function errorCondition(s: Element): string | undefined {
  return s
    .getChild('error')
    ?.getChildElements()
    .find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')?.name;
}

export function submitConfig(
  s: FakeSession,
  room: string,
  fields: Record<string, string | string[]>,
  id = 'cfg',
): void {
  const f = Object.entries(fields)
    .map(
      ([k, v]) =>
        `<field var="${k}">${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join('')}</field>`,
    )
    .join('');
  s.out(
    `<iq type="set" id="${id}" to="${room}@${HOST}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field>${f}</x></query></iq>`,
  );
}
