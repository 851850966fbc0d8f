// Client addresses behind a reverse proxy (http.trustedProxies): @xmpp/client over WebSocket and raw BOSH requests
// reach the server from 127.0.0.1 (the trusted proxy here) carrying the X-Forwarded-For a proxy adds, or from
// 127.0.0.2 (not trusted) carrying a forged one. Ban by address and the per-address connection rate must follow
// the forwarded address in the first case and ignore the header in the second.
import { request } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, type Element } from 'ltx';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Clients, HOST, tryJoin, codes, errCond, joinRoom, xml, type TestClient } from '../moderation/room-client.js';
import { validateConfig, ConfigError } from '../../src/config.js';
import { clientAddress, trustList } from '../../src/http/client-address.js';

const NS = 'urn:livechat-xmpp:muc-ip-ban:0';
/** The named ranges as Express's "trust proxy" defines them, written out here to check the server's matching. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
const ROOM = `live@${HOST}`;
let srv: TestServer;
const clients = new Clients(() => srv);
test.before.each(async () => {
  srv = await startTestServer({
    testMode: true,
    http: { trustedProxies: ['127.0.0.1'] },
    // Three new connections at once per address, then one a second: the fourth at once is refused.
    limits: { connectionBurstPerIp: 3, connectionsPerSecondPerIp: 1 },
  });
});
test.after.each(async () => {
  await clients.stopAll();
  await srv?.stop();
});

const was301 = (c: TestClient) =>
  c.received.some(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && codes(s).includes('301') && codes(s).includes('110'),
  );

async function banIp(owner: TestClient, nick: string): Promise<void> {
  await owner.iq(xml('iq', { type: 'set', to: ROOM }, xml('ban-ip', { xmlns: NS, nick })));
}

test("WebSocket behind the trusted proxy: a ban by address catches the forwarded address, not the proxy's", async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const a = await clients.viewerFrom('127.0.0.1', '198.51.100.1');
  const b = await clients.viewerFrom('127.0.0.1', '198.51.100.2');
  await joinRoom(a, 'live', 'A');
  await joinRoom(b, 'live', 'B');
  await banIp(owner, 'A');
  await a.waitFor(() => was301(a), 10000, 'A banned');
  await owner.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(was301(b), 'B, another client behind the same proxy, stays');
  assert.is(
    errCond(await tryJoin(await clients.viewerFrom('127.0.0.1', '198.51.100.1'), ROOM, 'A2')),
    'forbidden',
    "A's address is refused",
  );
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.1', '198.51.100.2'), ROOM, 'B2')).attrs.type,
    undefined,
    "B's address still joins",
  );
  // A proxy chain: the client is the rightmost address that is not a trusted proxy.
  assert.is(
    errCond(await tryJoin(await clients.viewerFrom('127.0.0.1', '198.51.100.1, 127.0.0.1'), ROOM, 'A3')),
    'forbidden',
    'through two proxies',
  );
});

test('WebSocket from an untrusted address: a forged X-Forwarded-For is ignored', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const c = await clients.viewerFrom('127.0.0.2', '203.0.113.3');
  const d = await clients.viewerFrom('127.0.0.2', '203.0.113.4');
  await joinRoom(c, 'live', 'C');
  await joinRoom(d, 'live', 'D');
  await banIp(owner, 'C');
  await c.waitFor(() => was301(c), 10000, 'C banned');
  await d.waitFor(() => was301(d), 10000, 'D, on the same real address despite its header, banned too');
  assert.is(
    errCond(await tryJoin(await clients.viewerFrom('127.0.0.2', '203.0.113.99'), ROOM, 'E')),
    'forbidden',
    'a new forged header does not help',
  );
});

/** One BOSH session creation from `localAddress`; the response body. */
function createBosh(localAddress: string, forwardedFor?: string): Promise<Element> {
  const body = `<body rid='${1000 + Math.floor(Math.random() * 1e6)}' to='anon.localhost' wait='10' hold='1' ver='1.6' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' xmlns='http://jabber.org/protocol/httpbind'/>`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: srv.port,
        path: '/http-bind',
        method: 'POST',
        localAddress,
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          try {
            resolve(parse(text) as Element);
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const refused = (b: Element) => b.attrs.type === 'terminate' && b.attrs.condition === 'policy-violation';

test('BOSH: the per-address connection rate counts the forwarded address behind the proxy, the real one otherwise', async () => {
  // Behind the trusted proxy: one client's third session at once is over its burst; another client is not affected.
  for (let i = 0; i < 3; i++)
    assert.not.ok(refused(await createBosh('127.0.0.1', '192.0.2.9')), `session ${i + 1} of 192.0.2.9`);
  assert.ok(refused(await createBosh('127.0.0.1', '192.0.2.9')), 'fourth session of 192.0.2.9 refused');
  assert.not.ok(refused(await createBosh('127.0.0.1', '192.0.2.10')), 'another client behind the proxy accepted');
  // From an untrusted address, changing the forged header every time does not get past the rate.
  for (let i = 0; i < 3; i++)
    assert.not.ok(refused(await createBosh('127.0.0.2', `192.0.2.2${i}`)), `session ${i + 1} from 127.0.0.2`);
  assert.ok(refused(await createBosh('127.0.0.2', '192.0.2.29')), 'all four counted against 127.0.0.2');
});

test('client address rules and config validation', () => {
  const req = (peer: string, xff?: string) =>
    ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;
  const trust = trustList(['loopback', '10.0.0.0/8']);
  assert.is(clientAddress(req('::ffff:127.0.0.1', '1.2.3.4, 10.0.0.5'), trust), '1.2.3.4');
  assert.is(
    clientAddress(req('127.0.0.1', '6.6.6.6, 1.2.3.4'), trust),
    '1.2.3.4',
    'only the hops added by trusted proxies count',
  );
  assert.is(clientAddress(req('127.0.0.1', 'not-an-ip'), trust), '127.0.0.1', 'garbage: the proxy itself');
  assert.is(clientAddress(req('8.8.8.8', '1.2.3.4'), trust), '8.8.8.8', 'untrusted peer: header ignored');
  assert.is(clientAddress(req('::1', '2001:db8::7'), trust), '2001:db8::7');
  assert.is(clientAddress(req('127.0.0.1', '1.2.3.4'), trustList([])), '127.0.0.1', 'empty list trusts nobody');
  assert.equal(validateConfig({}).http.trustedProxies, ['loopback'], 'default: loopback proxies only');
  try {
    validateConfig({ http: { trustedProxies: ['10.0.0.0/40'] } });
    assert.unreachable('bad prefix accepted');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match(String((e as Error).message), /http\.trustedProxies/);
  }
});

test("trusted ranges match as Node's BlockList matches them, for IPv4 and IPv6, every prefix length", () => {
  const entries = [
    'uniquelocal',
    'linklocal',
    '192.0.2.7',
    '198.51.100.0/25',
    '203.0.113.128/31',
    '0.0.0.0/0',
    '2001:db8::/48',
  ];
  const addresses = [
    '10.0.0.0',
    '10.255.255.255',
    '11.0.0.0',
    '9.255.255.255',
    '172.15.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '172.32.0.0',
    '192.168.1.1',
    '192.169.0.1',
    '169.254.3.4',
    '192.0.2.7',
    '192.0.2.8',
    '198.51.100.127',
    '198.51.100.128',
    '203.0.113.127',
    '203.0.113.128',
    '203.0.113.129',
    '203.0.113.130',
    '::ffff:10.1.2.3',
    '01.2.3.4',
    '1.2.3',
    '256.1.1.1',
    'fe80::1',
    'fc00::1',
    '2001:db8::1',
    '2001:db8:1::1',
    '::1',
    'nonsense',
  ];
  for (const list of [...entries.map((e) => [e]), entries.slice(0, -2)]) {
    const ours = trustList(list);
    const node = new BlockList();
    for (const e of list.flatMap((x) => NAMED_RANGES[x] ?? [x])) {
      const [addr, bits] = e.split('/');
      const type = isIP(addr!) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) node.addAddress(addr!, type);
      else node.addSubnet(addr!, Number(bits), type);
    }
    for (const a of addresses) {
      const plain = a.startsWith('::ffff:') ? a.slice(7) : a;
      const family = isIP(plain);
      const expected = family !== 0 && node.check(plain, family === 4 ? 'ipv4' : 'ipv6');
      assert.is(ours(a, 0), expected, `${a} against ${list.join(', ')}`);
    }
  }
});

test.run();
