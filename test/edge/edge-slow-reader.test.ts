// websocket.edge = process: the edge reports each connection's unsent bytes to the main process, so a client that
// stops reading is still dropped past limits.maxSendBufferBytes while the others keep getting their messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { slowReaderIsDropped } from '../helpers/slow-reader.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({
    websocket: { edge: 'process' },
    limits: { maxSendBufferBytes: 64 * 1024 },
    streamManagement: { enabled: false },
  });
});
test.after(async () => {
  await srv.stop();
});

test('a client of the edge that stops reading is dropped; a reading client gets everything', async () => {
  await slowReaderIsDropped(srv, {
    // A round trip every 10 messages: no batch holds more than ~20 KB for the slow client, so what passes the
    // bound is what the edge reports holding, not one batch on its way to it.
    roundTripEvery: 10,
    dropWithinMs: 20_000,
    connected: () => assert.is(srv.server.edge!.connections, 3, 'all three connections are the edge’s'),
  });
  assert.ok(srv.server.edge!.stats!.bufferedReports > 0, 'the edge reported the bytes it held');
});

test.run();
