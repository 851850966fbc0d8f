// aioxmpp (Debian's python3-aioxmpp) drives MUC scenarios against our server through aioxmpp's own end-to-end
// harness: `python3 -m aioxmpp.e2etest` (pytest with aioxmpp's plugin) and its AnonymousProvisioner pointed at our
// STARTTLS port. Every case must pass: a failure, an error or a skip (a feature the harness did not find) fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PYTHON = '/usr/bin/python3'; // Debian's, where python3-aioxmpp and python3-pytest are installed
const suite = fileURLToPath(new URL('./fixtures/aioxmpp/test_muc_e2e.py', import.meta.url));
const EXPECTED_CASES = 9;
let srv: TestServer;
let dir: string;

test.before(async () => {
  srv = await startTestServer({ tcp: { enabled: true, port: 0 } });
  dir = await mkdtemp(join(tmpdir(), 'aioxmpp-e2e-'));
});
test.after(async () => {
  await srv.stop();
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], ms: number): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const p = spawn(PYTHON, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      fail(new Error(`aioxmpp e2e suite did not finish in ${ms / 1000}s:\n${out.slice(-4000)}`));
    }, ms);
    p.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

test('aioxmpp MUC end-to-end suite passes every case against our server', async () => {
  assert.ok(
    existsSync(PYTHON),
    `${PYTHON} is missing: install Debian's python3 with python3-aioxmpp and python3-pytest`,
  );
  const probe = await run(['-c', 'import aioxmpp.e2etest, pytest'], 60_000);
  assert.is(
    probe.code,
    0,
    `aioxmpp's e2e harness cannot be imported (apt-get install python3-aioxmpp python3-pytest):\n${probe.out}`,
  );
  const port = srv.server.tcpAddresses()!.starttls[0].port;
  const config = join(dir, 'e2etest.ini');
  await writeFile(
    config,
    [
      '[global]',
      'provisioner=aioxmpp.e2etest.provision.AnonymousProvisioner',
      'timeout=30',
      '',
      '[aioxmpp.e2etest.provision.AnonymousProvisioner]',
      'host=127.0.0.1',
      'domain=anon.localhost',
      `port=${port}`,
      // The test server's certificate is self-signed: the suite checks MUC behaviour, not who signed it.
      'no_verify=true',
      'quirks=[]',
      '',
    ].join('\n'),
  );
  const { code, out } = await run(
    [
      '-m',
      'aioxmpp.e2etest',
      `--e2etest-config=${config}`,
      '--e2etest-only',
      '-v',
      '-rA',
      '-p',
      'no:cacheprovider',
      suite,
    ],
    8 * 60_000,
  );
  const passed = [...out.matchAll(/::(test_\w+) PASSED/g)].map((m) => m[1]);
  const bad = [...out.matchAll(/::(test_\w+) (FAILED|ERROR|SKIPPED)/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.equal(bad, [], `aioxmpp cases did not pass:\n${out.slice(-6000)}`);
  assert.is(
    passed.length,
    EXPECTED_CASES,
    `expected ${EXPECTED_CASES} passing cases, got ${passed.join(', ') || 'none'}:\n${out.slice(-6000)}`,
  );
  assert.is(code, 0, `pytest exited with ${code}:\n${out.slice(-6000)}`);
});

test.run();
