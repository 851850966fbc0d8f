// The standalone command: flags, config errors that name the field, start, clean shutdown on SIGTERM, adduser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient } from '../helpers/xmpp-client.js';
import { rawWs } from '../helpers/raw-ws.js';
import { runCli, waitForOutput, WS_URL } from '../helpers/cli.js';

let dir: string;

const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, input });

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xmpp-cli-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('an unknown flag exits non-zero and says which', async () => {
  const { code, err } = await cli(['--htp-port', '5']).done;
  assert.is(code, 2);
  assert.match(err, /unknown flag --htp-port/);
});

test('a bad value names the field and what is wrong', async () => {
  const r1 = await cli(['--http-port', '70000']).done;
  assert.is(r1.code, 2);
  assert.match(r1.err, /http\.port: must be between 0 and 65535, got 70000/);
  const r2 = await cli(['--domain', 'not a domain']).done;
  assert.match(r2.err, /domain: "not a domain" is not a valid domain name/);
  const cfg = join(dir, 'bad.json');
  await writeFile(cfg, JSON.stringify({ limits: { maxStanzaSize: 'big' } }));
  const r3 = await cli(['--config', cfg]).done;
  assert.is(r3.code, 2);
  assert.match(r3.err, /limits\.maxStanzaSize: expected an integer, got "big"/);
  await writeFile(cfg, JSON.stringify({ htp: {} }));
  const r4 = await cli(['--config', cfg]).done;
  assert.match(r4.err, /htp: unknown setting/);
  await writeFile(cfg, JSON.stringify({ muc: { creation: 'everybody' } }));
  const r6 = await cli(['--config', cfg]).done;
  assert.is(r6.code, 2);
  assert.match(r6.err, /^error: config: muc\.creation: /m);
  assert.not.match(r6.err, /\n\s+at /, 'no stack trace');
  await writeFile(cfg, '{ not json');
  const r5 = await cli(['--config', cfg]).done;
  assert.match(r5.err, /is not valid JSON/);
});

test('the server starts from flags, serves clients, and SIGTERM closes streams and exits 0', async () => {
  const cfg = join(dir, 'ok.json');
  await writeFile(cfg, JSON.stringify({ domain: 'example.test', logLevel: 'warn' }));
  const { child, done } = cli(['--config', cfg, '--http-port', '0', '--c2s-port', '0', '--data', join(dir, 'data')]);
  const line = await waitForOutput(child, WS_URL);
  const url = line;
  const c = await connectClient({ service: url, domain: 'anon.example.test' });
  assert.match(c.jid, /@anon\.example\.test\//);
  const raw = await rawWs(url);
  raw.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.example.test" version="1.0"/>');
  await raw.waitFor(/<mechanisms/);
  child.kill('SIGTERM');
  const frame = await raw.waitFor(/system-shutdown|<close/);
  assert.ok(frame.length > 0);
  await raw.waitFor(/<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/);
  const r = await done;
  assert.is(r.code, 0);
  await c.stop();
});

test('adduser stores an account that can log in', async () => {
  const data = join(dir, 'accounts-data');
  const add = await cli(['adduser', 'dave', '--data', data], 'hunter2\n').done;
  assert.is(add.code, 0, add.err);
  assert.match(add.out, /dave@localhost/);
  const list = await cli(['listusers', '--data', data]).done;
  assert.match(list.out, /^dave@localhost$/m);
  const { child, done } = cli(['--http-port', '0', '--c2s-port', '0', '--data', data, '--log-level', 'warn']);
  const url = await waitForOutput(child, WS_URL);
  const c = await connectClient({ service: url, domain: 'localhost', username: 'dave', password: 'hunter2' });
  assert.match(c.jid, /^dave@localhost\//);
  await c.stop();
  child.kill('SIGINT');
  assert.is((await done).code, 0);
});

test('passwd changes an existing account password; the old one stops working', async () => {
  const data = join(dir, 'passwd-data');
  const missing = await cli(['passwd', 'erin', '--data', data, '--password', 'x']).done;
  assert.is(missing.code, 1);
  assert.match(missing.err, /no account erin@localhost/);
  assert.is((await cli(['adduser', 'erin', '--data', data, '--password', 'old-pass']).done).code, 0);
  const pw = await cli(['passwd', 'erin', '--data', data], 'new-pass\n').done;
  assert.is(pw.code, 0, pw.err);
  assert.match(pw.out, /password of erin@localhost changed/);
  const { child, done } = cli(['--http-port', '0', '--c2s-port', '0', '--data', data, '--log-level', 'warn']);
  const url = await waitForOutput(child, WS_URL);
  const c = await connectClient({ service: url, domain: 'localhost', username: 'erin', password: 'new-pass' });
  await c.stop();
  let oldWorks = true;
  await connectClient({ service: url, domain: 'localhost', username: 'erin', password: 'old-pass' }).then(
    (x) => x.stop(),
    () => {
      oldWorks = false;
    },
  );
  assert.not.ok(oldWorks, 'the old password still logs in');
  child.kill('SIGINT');
  assert.is((await done).code, 0);
});

test('check, cert, rooms and destroy work on the data folder of a stopped server', async () => {
  const data = join(dir, 'admin-data');
  const ok = await cli(['check', '--data', data, '--domain', 'example.test']).done;
  assert.is(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /ok +configuration \(domain example\.test, MUC room\.example\.test/);
  const badCfg = join(dir, 'bad-muc.json');
  await writeFile(badCfg, JSON.stringify({ muc: { maxOccupants: 0 } }));
  const bad = await cli(['check', '--config', badCfg, '--data', data]).done;
  assert.is(bad.code, 1);
  assert.match(bad.out, /FAIL configuration: .*muc\.maxOccupants/);

  const cert = await cli(['cert', '--data', data, '--domain', 'example.test']).done;
  assert.is(cert.code, 0, cert.err);
  for (const h of ['example.test', 'anon.example.test', 'room.example.test'])
    assert.match(cert.out, new RegExp(`^${h.replace(/\./g, '\\.')}: self-signed`, 'm'));
  assert.match(cert.out, /SHA-256 [0-9A-F:]{95}/);

  // Run the server once: the standalone default creates the persistent demo room; a client talks in it.
  const { child, done } = cli([
    '--http-port',
    '0',
    '--c2s-port',
    '0',
    '--data',
    data,
    '--domain',
    'example.test',
    '--log-level',
    'warn',
  ]);
  await waitForOutput(child, WS_URL);
  child.kill('SIGTERM');
  assert.is((await done).code, 0);
  const listed = await cli(['rooms', '--data', data, '--domain', 'example.test']).done;
  assert.match(listed.out, /^demo@room\.example\.test "Demo room"/m);
  const destroyed = await cli(['destroy', 'demo@room.example.test', '--data', data, '--domain', 'example.test']).done;
  assert.is(destroyed.code, 0, destroyed.err);
  assert.match((await cli(['rooms', '--data', data, '--domain', 'example.test']).done).out, /no persistent rooms/);
  const again = await cli(['destroy', 'demo', '--data', data, '--domain', 'example.test']).done;
  assert.is(again.code, 1);
});

test('logFormat json: every log line is one JSON object with time, level and msg', async () => {
  const { child, done } = cli([
    '--http-port',
    '0',
    '--c2s-port',
    '0',
    '--data',
    join(dir, 'json-data'),
    '--log-format',
    'json',
  ]);
  await waitForOutput(child, /"msg":"listening on http:\/\/127\.0\.0\.1:\d+/);
  child.kill('SIGTERM');
  const r = await done;
  assert.is(r.code, 0);
  const lines = r.out.split('\n').filter(Boolean);
  assert.ok(lines.length >= 2, r.out);
  for (const l of lines) {
    const o = JSON.parse(l) as Record<string, unknown>;
    assert.type(o.msg, 'string');
    assert.ok(['info', 'warn', 'error', 'debug'].includes(o.level as string), l);
    assert.ok(!Number.isNaN(Date.parse(o.time as string)), l);
  }
});

test.run();
