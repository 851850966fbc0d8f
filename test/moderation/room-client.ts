// Shared by the moderation tests: real @xmpp/client users and anonymous viewers against a test server, room join,
// configuration and small stanza predicates.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { Raw } from '../../src/config-schema.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

export { xml, type Stanza, type TestClient };
export const MUC = 'http://jabber.org/protocol/muc';
export const USER = 'http://jabber.org/protocol/muc#user';
export const ADMIN = 'http://jabber.org/protocol/muc#admin';
export const OWNER = 'http://jabber.org/protocol/muc#owner';
export const HOST = 'room.localhost';

export class Clients {
  list: TestClient[] = [];
  constructor(private srv: () => TestServer) {}
  async user(name: string, resource = 'web'): Promise<TestClient> {
    const c = await connectClient({
      service: this.srv().wsUrl,
      domain: 'localhost',
      username: name,
      password: 'pw',
      resource,
    });
    this.list.push(c);
    return c;
  }
  async viewer(): Promise<TestClient> {
    const c = await connectClient({ service: this.srv().wsUrl, domain: 'anon.localhost' });
    this.list.push(c);
    return c;
  }
  /** An anonymous viewer connecting from `localAddress`, with an X-Forwarded-For header when `forwardedFor` is set. */
  async viewerFrom(localAddress: string, forwardedFor?: string): Promise<TestClient> {
    const c = await connectClient({
      service: this.srv().wsUrl,
      domain: 'anon.localhost',
      localAddress,
      headers: forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {},
    });
    this.list.push(c);
    return c;
  }
  async stopAll(): Promise<void> {
    for (const c of this.list.splice(0)) await c.stop();
  }
}

/**
 * The server of a test file that wants a fresh one per test: started before each test, stopped with its clients
 * after it. `restart()` stops it keeping the data folder and starts a new one there (persistence checks).
 */
export class ServerPerTest {
  srv!: TestServer;
  readonly clients = new Clients(() => this.srv);

  constructor(
    test: Test,
    private readonly overrides: Raw = { testMode: true },
  ) {
    test.before.each(async () => {
      this.srv = await startTestServer(this.overrides);
    });
    test.after.each(async () => {
      await this.clients.stopAll();
      await this.srv?.stop();
    });
  }

  /** Stops the clients and the server (data kept), runs `whileDown` on the data folder, starts a new server. */
  async restart(whileDown?: (dataDir: string) => Promise<void>): Promise<TestServer> {
    await this.clients.stopAll();
    const dataDir = this.srv.dataDir;
    await this.srv.stop(true);
    await whileDown?.(dataDir);
    this.srv = await startTestServer(this.overrides, { dataDir });
    return this.srv;
  }
}

export const codes = (s: Stanza): string[] =>
  (s.getChild('x', USER)?.getChildren('status') ?? []).map((x: Stanza) => x.attrs.code);
export const errCond = (s: Stanza): string | undefined =>
  s
    .getChild('error')
    ?.children.find(
      (c: Stanza | string) =>
        typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
    )?.name;
export const isSelf = (room: string, nick: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === `${room}@${HOST}/${nick}` && !s.attrs.type && codes(s).includes('110');
export const bodyIs = (text: string) => (s: Stanza) => s.is('message') && s.getChildText('body') === text;

/** Joins and waits for the self-presence and the subject (the end of the join sequence). */
export async function joinRoom(c: TestClient, room: string, nick: string): Promise<Stanza> {
  const mark = c.received.length;
  await c.send(xml('presence', { to: `${room}@${HOST}/${nick}` }, xml('x', { xmlns: MUC })));
  const self = await c.waitFor(
    (s) => c.received.indexOf(s) >= mark && isSelf(room, nick)(s),
    10000,
    `self-presence in ${room} as ${nick}`,
  );
  await c.waitFor(
    (s) =>
      c.received.indexOf(s) >= mark &&
      s.is('message') &&
      s.attrs.from?.startsWith(`${room}@${HOST}`) &&
      !!s.getChild('subject'),
    10000,
    'subject',
  );
  return self;
}

export function configure(c: TestClient, room: string, fields: Record<string, string | string[]>): Promise<Stanza> {
  const x = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
    ...Object.entries(fields).map(([k, v]) =>
      xml('field', { var: k }, ...(Array.isArray(v) ? v : [v]).map((val) => xml('value', {}, val))),
    ),
  );
  return c.iq(xml('iq', { type: 'set', to: `${room}@${HOST}` }, xml('query', { xmlns: OWNER }, x)));
}

export function setAffiliation(c: TestClient, room: string, jid: string, affiliation: string): Promise<Stanza> {
  return c.iq(
    xml(
      'iq',
      { type: 'set', to: `${room}@${HOST}` },
      xml('query', { xmlns: ADMIN }, xml('item', { jid, affiliation })),
    ),
  );
}

export async function expectError(p: Promise<unknown>, condition: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.is((err as { condition?: string }).condition, condition);
    return;
  }
  assert.unreachable(`expected ${condition}`);
}

/** Sends a groupchat message and returns its id. */
export async function say(c: TestClient, room: string, body: string, extra: Stanza[] = []): Promise<string> {
  const id = `m${Math.random().toString(36).slice(2)}`;
  await c.send(xml('message', { type: 'groupchat', to: `${room}@${HOST}`, id }, xml('body', {}, body), ...extra));
  return id;
}

/** Resolves when no stanza matching `pred` arrived by the time a ping round trip through the server completes. */
export async function noneAfterRoundTrip(c: TestClient, pred: (s: Stanza) => boolean, what: string): Promise<void> {
  await c.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(c.received.find(pred), `unexpected ${what}`);
}

/** Asks to join `room` as `nick`; resolves with the answer to this request: the self-presence (110) or the error. */
export async function tryJoin(c: TestClient, room: string, nick: string, timeoutMs = 10000): Promise<Stanza> {
  const mark = c.received.length;
  await c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC })));
  return c.waitFor(
    (s) =>
      c.received.indexOf(s) >= mark &&
      s.is('presence') &&
      s.attrs.from === `${room}/${nick}` &&
      (s.attrs.type === 'error' || codes(s).includes('110')),
    timeoutMs,
    `join outcome of ${nick}`,
  );
}
