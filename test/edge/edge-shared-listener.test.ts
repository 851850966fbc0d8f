// websocket.edge = process with the standalone HTTP server: the edge accepts on the server's listening socket too.
// It keeps WebSocket upgrades to the path (no socket crosses the IPC channel), serves plain HTTP requests through
// the main process's HTTP server over its pipe, and hands upgrades to other paths back as sockets. To make sure the
// edge, not the main process, accepts a connection, the tests connect while this (main) process is kept busy: only
// the edge can take the kernel's queue then.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, jidOf, type RawWs } from '../helpers/raw-ws.js';
import { until } from '../helpers/until.js';

let srv: TestServer;
let port: number;
const open: RawWs[] = [];
const sockets: Socket[] = [];

const edgeOf = () => srv.server.edge!;
const stats = () => edgeOf().stats!;

/**
 * `n` TCP connections to the server made while this process is busy: their connect() calls are issued, then this
 * process spins for `busyMs`, during which only the edge process can accept them.
 */
async function connectWhileBusy(n: number, busyMs = 400): Promise<Socket[]> {
  const made = Array.from({ length: n }, () => connect(port, '127.0.0.1'));
  sockets.push(...made);
  // net.connect issues its connect() on the next tick.
  await new Promise<void>((r) => process.nextTick(r));
  const end = Date.now() + busyMs;
  while (Date.now() < end);
  await Promise.all(
    made.map((s) => (s.connecting ? new Promise((r, j) => s.once('connect', r).once('error', j)) : Promise.resolve())),
  );
  return made;
}

/** Writes raw HTTP/1.1 requests on a socket and resolves with the responses' status lines and bodies, in order. */
function exchange(
  socket: Socket,
  requests: string[],
  timeoutMs = 10_000,
  /** Reads nothing for this long after writing (the server's writes then wait in its buffers). */
  slowReaderMs = 0,
): Promise<Array<{ status: string; body: string }>> {
  return new Promise((resolve, reject) => {
    let text = '';
    const out: Array<{ status: string; body: string }> = [];
    const t = setTimeout(
      () => reject(new Error(`no complete answers in ${timeoutMs} ms; read: ${text.slice(0, 300)}`)),
      timeoutMs,
    );
    const parse = () => {
      for (;;) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = text.slice(0, end);
        const status = head.split('\r\n')[0]!;
        let rest = text.slice(end + 4);
        let body = '';
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          // Chunks up to the empty last one.
          for (;;) {
            const line = rest.indexOf('\r\n');
            if (line < 0) return;
            const size = parseInt(rest.slice(0, line), 16);
            if (rest.length < line + 2 + size + 2) return;
            body += rest.slice(line + 2, line + 2 + size);
            rest = rest.slice(line + 2 + size + 2);
            if (size === 0) break;
          }
        } else {
          const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (rest.length < len) return;
          body = rest.slice(0, len);
          rest = rest.slice(len);
        }
        out.push({ status, body });
        text = rest;
        if (out.length === requests.length) {
          clearTimeout(t);
          socket.off('data', onData);
          resolve(out);
          return;
        }
      }
    };
    const onData = (b: Buffer) => {
      text += b.toString('latin1');
      try {
        parse();
      } catch (err) {
        clearTimeout(t);
        reject(err as Error);
      }
    };
    socket.on('data', onData);
    socket.write(requests.join(''));
    if (slowReaderMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), slowReaderMs);
    }
  });
}

test.before(async () => {
  srv = await startTestServer({ testMode: true, websocket: { edge: 'process' } });
  port = Number(new URL(srv.httpUrl).port);
  await edgeAccepting();
});

/** Waits until the running edge accepts on the listening socket (it gets it over IPC once it is ready). */
async function edgeAccepting(): Promise<void> {
  await until('an edge to be ready', () => edgeOf().ready, 30_000, 20);
  const deadline = Date.now() + 10_000;
  while (stats().proxied === 0) {
    if (Date.now() > deadline) throw new Error('the edge never accepted a connection itself');
    const [s] = await connectWhileBusy(1, 50);
    await exchange(s!, ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    s!.destroy();
  }
}

test.after(async () => {
  for (const c of open) c.close();
  for (const s of sockets) s.destroy();
  if (srv) await srv.stop();
});

test('WebSocket viewers connecting while the main process is busy are accepted by the edge, none handed over', async () => {
  const before = { ...stats() };
  const held = edgeOf().connections;
  const raw = await connectWhileBusy(6);
  const viewers = await Promise.all(raw.map((socket) => anonymousRaw(srv.wsUrl, { socket })));
  open.push(...viewers);
  assert.is(stats().directAccepts - before.directAccepts, 6, 'all six accepted by the edge itself');
  assert.is(stats().handoffs - before.handoffs, 0, 'no socket crossed the IPC channel');
  // Each is a session like any other: it can talk to itself through the server.
  for (const v of viewers) {
    const jid = jidOf(v);
    v.send(`<message xmlns="jabber:client" to="${jid}" type="chat" id="m1"><body>over the edge</body></message>`);
    await v.waitFor(/<body>over the edge<\/body>/);
  }
  assert.is(edgeOf().connections, held + 6, 'the edge holds them');
});

test('once the edge accepts, the main process no longer does: idle or not, every connection goes to the edge', async () => {
  const before = { ...stats() };
  for (let i = 0; i < 5; i++) {
    const c = await anonymousRaw(srv.wsUrl);
    open.push(c);
    const [page] = await exchange(connect(port, '127.0.0.1'), ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    assert.match(page!.status, / 200 /);
  }
  assert.is(stats().directAccepts - before.directAccepts, 5, 'every upgrade accepted by the edge');
  assert.is(stats().proxied - before.proxied, 5, 'every page request through the edge');
  assert.is(stats().handoffs, before.handoffs, 'nothing accepted here and handed over');
});

test("a proxy's X-Forwarded-For is resolved for the connections the edge accepts itself", async () => {
  const before = stats().directAccepts;
  const [socket] = await connectWhileBusy(1);
  const c = await anonymousRaw(srv.wsUrl, { socket: socket!, headers: { 'x-forwarded-for': '203.0.113.9' } });
  open.push(c);
  assert.is(stats().directAccepts, before + 1);
  assert.is(srv.server.router.sessionFor(jidOf(c))?.remoteAddress, '203.0.113.9');
});

test('plain HTTP requests the edge accepts reach the main process through the pipe, what the edge read included', async () => {
  const before = { ...stats() };
  const [page, bosh, keepAlive] = await connectWhileBusy(3);
  const [landing] = await exchange(page!, ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
  assert.match(landing!.status, / 200 /);
  assert.match(landing!.body, /XMPP chat server for localhost/);
  // A request with a body: the body came in the edge's first read and must reach the BOSH handler whole.
  const body =
    "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' to='anon.localhost'" +
    " wait='10' hold='1' ver='1.6' xmpp:version='1.0'/>";
  const [created] = await exchange(bosh!, [
    `POST /http-bind HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  ]);
  assert.match(created!.status, / 200 /);
  assert.match(created!.body, /sid=['"][^'"]+['"]/, 'a BOSH session was created from the forwarded body');
  assert.match(created!.body, /ANONYMOUS/);
  // Keep-alive: the connection stays with the main process for its next requests.
  const answers = await exchange(keepAlive!, [
    'GET /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
  ]);
  assert.match(answers[0]!.status, / 404 /);
  assert.match(answers[1]!.status, / 200 /);
  assert.is(stats().proxied - before.proxied, 3, 'all three went through the edge');
  assert.is(stats().handedBack, before.handedBack, 'no socket crossed the IPC channel');
});

test('a large response through the edge arrives whole, also when the server closes after it', async () => {
  const [probe] = await connectWhileBusy(1);
  const [page] = await exchange(probe!, ['GET /webchat/room/demo HTTP/1.1\r\nHost: localhost\r\n\r\n']);
  const script = /src="(\/webchat\/assets\/[^"]+\.js)"/.exec(page!.body)?.[1];
  assert.ok(script, 'the web chat page names its scripts');
  const direct = await fetch(`${srv.httpUrl}${script}`, { headers: { 'accept-encoding': 'identity' } });
  const expected = Buffer.from(await direct.arrayBuffer());
  const before = stats().proxied;
  const [a, b] = await connectWhileBusy(2);
  assert.ok(expected.length > 100_000, `a large body (${expected.length} bytes)`);
  const get = (close: boolean) =>
    `GET ${script} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: identity\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  for (const [socket, close] of [
    [a!, false],
    [b!, true],
  ] as const) {
    // Six bodies asked at once from a reader slower than the server: more than the kernel's socket buffers take, so
    // the last ones are still in the edge's buffers when the server is done with the connection.
    const answers = await exchange(
      socket,
      [get(false), get(false), get(false), get(false), get(false), get(close)],
      20_000,
      500,
    );
    for (const got of answers) {
      assert.match(got.status, / 200 /);
      assert.is(got.body.length, expected.length, `the whole body (connection: ${close ? 'close' : 'keep-alive'})`);
      assert.ok(Buffer.from(got.body, 'latin1').equals(expected), 'byte for byte');
    }
    if (close) {
      // `Connection: close`: the server ends the connection once the last body is out, and the client sees it.
      const ended =
        socket.readableEnded ||
        (await new Promise<boolean>((r) => {
          socket.once('end', () => r(true));
          setTimeout(() => r(false), 5000);
        }));
      assert.ok(ended, 'the connection was ended after the last response');
    }
  }
  assert.is(stats().proxied - before, 2);
});

test('a connection that sends nothing for a while (a browser preconnect) is still taken when it upgrades', async () => {
  const before = { ...stats() };
  const [socket] = await connectWhileBusy(1);
  await new Promise((r) => setTimeout(r, 1500));
  const c = await anonymousRaw(srv.wsUrl, { socket: socket! });
  open.push(c);
  assert.match(jidOf(c), /@anon\.localhost\//);
  assert.is(stats().directAccepts, before.directAccepts + 1, 'accepted by the edge');
  assert.is(stats().handoffs, before.handoffs, 'not handed over');
});

test('an upgrade to another path is handed back as a socket, for the main process to answer', async () => {
  const before = stats().handedBack;
  const [socket] = await connectWhileBusy(1);
  const [answer] = await exchange(socket!, [
    'GET /elsewhere HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  ]);
  assert.match(answer!.status, / 404 /);
  assert.is(stats().handedBack, before + 1);
});

test('a killed edge takes its accepts with it; the main process serves meanwhile and the next edge shares again', async () => {
  const pid = edgeOf().pid!;
  const generations = edgeOf().generations;
  process.kill(pid, 'SIGKILL');
  await until('the edge to be gone', () => !edgeOf().ready, 10_000, 20);
  const [meanwhile] = await exchange(connect(port, '127.0.0.1'), ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
  assert.match(meanwhile!.status, / 200 /);
  await until('a new edge', () => edgeOf().ready && edgeOf().generations > generations, 30_000, 20);
  await edgeAccepting();
  const before = stats().directAccepts;
  const [socket] = await connectWhileBusy(1);
  const c = await anonymousRaw(srv.wsUrl, { socket: socket! });
  open.push(c);
  assert.is(stats().directAccepts, before + 1);
});

test('an edge that stops answering is restarted, and the main process accepts meanwhile', async () => {
  const pid = edgeOf().pid!;
  const generations = edgeOf().generations;
  process.kill(pid, 'SIGSTOP');
  try {
    // Heartbeats every 5 s, two unanswered: killed within ~15 s.
    await until('the hung edge to be replaced', () => edgeOf().generations > generations, 25_000, 20);
  } finally {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // killed, as expected
    }
  }
  const [page] = await exchange(connect(port, '127.0.0.1'), ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
  assert.match(page!.status, / 200 /);
  await edgeAccepting();
  const c = await anonymousRaw(srv.wsUrl);
  open.push(c);
  assert.match(jidOf(c), /@anon\.localhost\//);
});

test('after stop() nothing accepts on the port: the edge let go of the listening socket too', async () => {
  for (const c of open.splice(0)) c.close();
  const pid = edgeOf().pid!;
  await srv.stop();
  srv = undefined as unknown as TestServer;
  let alive = true;
  try {
    process.kill(pid, 0);
  } catch {
    alive = false;
  }
  assert.not.ok(alive, 'the edge process exited');
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, 'the port refuses connections');
});

test.run();
