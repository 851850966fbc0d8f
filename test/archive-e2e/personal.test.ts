// Personal MAM (XEP-0313 on accounts) with @xmpp/client: one-to-one chat is archived for sender and recipient,
// preferences decide what is kept, only the account itself reads its archive, and it survives a restart.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { MAM, RSM, errorCondition, stopAll, user, viewer, xml, type Stanza, type TestClient } from './helpers.js';

const test = suite('archive e2e: personal archive');

let dataDir: string;
let srv: TestServer | undefined;
const clients: TestClient[] = [];
const CONFIG = { testMode: true, webchat: { enabled: false } };

async function connect(name: string): Promise<TestClient> {
  const c = await user(srv!.wsUrl, name);
  clients.push(c);
  await c.send(xml('presence'));
  return c;
}

/** The caller's own archive, oldest first: [body, to, from] per message. */
async function myArchive(c: TestClient, withJid?: string): Promise<string[][]> {
  const start = c.received.length;
  const form = withJid
    ? xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE' }, xml('value', {}, MAM)),
        xml('field', { var: 'with' }, xml('value', {}, withJid)),
      )
    : undefined;
  await c.iq(
    xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: MAM, queryid: 'mine' }, form, xml('set', { xmlns: RSM }, xml('max', {}, '100'))),
    ),
  );
  return c.received
    .slice(start)
    .map((s: Stanza) => s.getChild('result', MAM))
    .filter(Boolean)
    .map((r: Stanza) => r.getChild('forwarded', 'urn:xmpp:forward:0').getChild('message'))
    .map((m: Stanza) => [m.getChildText('body'), m.attrs.to.split('/')[0], m.attrs.from.split('/')[0]]);
}

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'personal-mam-'));
});
test.after(async () => {
  await stopAll(clients);
  await srv?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('chat is archived on both sides, prefs exclude a contact, and the archive survives a restart', async () => {
  srv = await startTestServer(CONFIG, { dataDir });
  const romeo = await connect('romeo');
  const juliet = await connect('juliet');
  const nurse = await connect('nurse');
  // Romeo never wants the nurse's messages archived.
  const prefs = await romeo.iq(
    xml(
      'iq',
      { type: 'set' },
      xml(
        'prefs',
        { xmlns: MAM, default: 'always' },
        xml('always'),
        xml('never', {}, xml('jid', {}, 'Nurse@LOCALHOST')),
      ),
    ),
  );
  assert.is(prefs.getChild('prefs', MAM).getChild('never').getChildText('jid'), 'nurse@localhost');

  await juliet.send(xml('message', { to: 'romeo@localhost', type: 'chat' }, xml('body', {}, 'Wherefore art thou?')));
  await romeo.waitFor((s) => s.getChildText('body') === 'Wherefore art thou?');
  await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Here!')));
  await juliet.waitFor((s) => s.getChildText('body') === 'Here!');
  await nurse.send(xml('message', { to: 'romeo@localhost', type: 'chat' }, xml('body', {}, 'Madam calls')));
  await romeo.waitFor((s) => s.getChildText('body') === 'Madam calls');
  await romeo.send(
    xml(
      'message',
      { to: 'juliet@localhost', type: 'chat' },
      xml('body', {}, 'not kept'),
      xml('no-store', { xmlns: 'urn:xmpp:hints' }),
    ),
  );
  await juliet.waitFor((s) => s.getChildText('body') === 'not kept');

  const expectRomeo = [
    ['Wherefore art thou?', 'romeo@localhost', 'juliet@localhost'],
    ['Here!', 'juliet@localhost', 'romeo@localhost'],
  ];
  assert.equal(await myArchive(romeo), expectRomeo);
  assert.equal(await myArchive(juliet), expectRomeo);
  assert.equal(await myArchive(nurse), [['Madam calls', 'romeo@localhost', 'nurse@localhost']]);
  assert.equal(await myArchive(romeo, 'juliet@localhost'), expectRomeo);

  // Nobody reads someone else's archive; anonymous viewers have none.
  try {
    await juliet.iq(xml('iq', { type: 'set', to: 'romeo@localhost' }, xml('query', { xmlns: MAM })));
    assert.unreachable('not her archive');
  } catch (err) {
    assert.ok(['forbidden', 'service-unavailable'].includes(errorCondition(err)!), String(errorCondition(err)));
  }
  const anon = await viewer(srv.wsUrl);
  clients.push(anon);
  try {
    await anon.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: MAM })));
    assert.unreachable('no archive for viewers');
  } catch (err) {
    assert.ok(errorCondition(err));
  }

  await stopAll(clients);
  await srv.stop(true);
  srv = await startTestServer(CONFIG, { dataDir });
  const romeo2 = await connect('romeo');
  assert.equal(await myArchive(romeo2), expectRomeo);
  const p2 = await romeo2.iq(xml('iq', { type: 'get' }, xml('prefs', { xmlns: MAM })));
  assert.is(
    p2.getChild('prefs', MAM).getChild('never').getChildText('jid'),
    'nurse@localhost',
    'prefs survive the restart',
  );
});

test.run();
