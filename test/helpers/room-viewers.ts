// @xmpp/client viewers joining a room on a test server, kept for the test to stop; a suite whose servers and viewers
// are stopped after it; a quick series of messages posted to a room and awaited; and the check that each viewer got
// a room message addressed to itself.
import { performance } from 'node:perf_hooks';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from './server.js';
import { connectClient, xml, type ClientOptions, type Stanza, type TestClient } from './xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';

/**
 * Logs in (anonymously unless `login` says otherwise), joins `room` as `nick` (no history) and waits for its own
 * presence; kept in `clients`.
 */
export async function joinViewer(
  srv: TestServer,
  room: string,
  nick: string,
  clients: TestClient[],
  login: Partial<ClientOptions> = {},
): Promise<TestClient> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', streamManagement: false, ...login });
  clients.push(c);
  await c.send(
    xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))),
  );
  await c.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/${nick}` && !s.attrs.type,
    15_000,
    `${nick}'s join`,
  );
  return c;
}

/** The servers and viewers a suite's tests start, stopped after it. */
export interface ViewersCtx {
  clients: TestClient[];
  servers: TestServer[];
}

export function viewersSuite(name: string): Test<ViewersCtx> {
  const t = suite<ViewersCtx>(name);
  t.before((ctx) => {
    ctx.clients = [];
    ctx.servers = [];
  });
  t.after(async (ctx) => {
    for (const c of ctx.clients) await c.stop();
    for (const s of ctx.servers) await s.stop();
  });
  return t;
}

/** A server with these `c2s` settings, and in `room` on it a sender and three viewers (v1, v2, v3). */
export async function senderAndViewers(
  ctx: ViewersCtx,
  room: string,
  c2s: Record<string, number>,
): Promise<{ srv: TestServer; sender: TestClient; viewers: TestClient[] }> {
  const srv = await startTestServer({ c2s });
  ctx.servers.push(srv);
  const join = (nick: string) => joinViewer(srv, room, nick, ctx.clients);
  const sender = await join('sender');
  const viewers = [await join('v1'), await join('v2'), await join('v3')];
  return { srv, sender, viewers };
}

/** Posts `n` groupchat messages m0, m1, … to `room`, 50 ms apart; returns when each was posted (performance.now()). */
export async function postSeries(sender: TestClient, room: string, n: number): Promise<number[]> {
  const sentAt: number[] = [];
  for (let i = 0; i < n; i++) {
    sentAt.push(performance.now());
    await sender.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, `m${i}`)));
    await new Promise((r) => setTimeout(r, 50));
  }
  return sentAt;
}

/** Waits for m0 … m(n-1) at `c` in turn (15 s each); returns when each arrived (performance.now()). */
export async function awaitSeries(c: TestClient, n: number, who: string): Promise<number[]> {
  const arrived: number[] = [];
  for (let i = 0; i < n; i++) {
    await c.waitFor((s) => s.is('message') && s.getChildText('body') === `m${i}`, 15_000, `m${i} at ${who}`);
    arrived.push(performance.now());
  }
  return arrived;
}

const bodyIs = (text: string) => (s: Stanza) => s.is('message') && s.getChildText('body') === text;

/**
 * Each of `viewers` (a client and how a failure names it) gets the room message `text` from `from`, addressed to
 * its own full JID.
 */
export async function assertEachAddressed(
  viewers: ReadonlyArray<readonly [TestClient, string]>,
  text: string,
  from: string,
): Promise<void> {
  for (const [c, who] of viewers) {
    const got = await c.waitFor(bodyIs(text), 10_000, `the message at ${who}`);
    assert.is(got.attrs.to, c.jid, `addressed to ${who}'s full JID`);
    assert.is(got.attrs.from, from);
  }
}
