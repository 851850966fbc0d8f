// A client that stops reading is disconnected once its send buffer passes the bound, instead of the server
// buffering for it without limit; everyone else keeps getting their messages.
import { test } from 'uvu';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { slowReaderIsDropped } from '../helpers/slow-reader.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({ limits: { maxSendBufferBytes: 64 * 1024 }, streamManagement: { enabled: false } });
});
test.after(async () => {
  await srv.stop();
});

test('a client that stops reading is dropped; a reading client gets everything', async () => {
  await slowReaderIsDropped(srv, { dropWithinMs: 10_000 });
});

test.run();
