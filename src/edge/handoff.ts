// A socket sent to another process over Node's IPC channel (main → edge for upgrades the main process read, edge →
// main for plain HTTP requests the edge accepted).
import type { Socket } from 'node:net';

/**
 * Stops this process reading `socket` and returns the bytes it had read but nobody consumed. Node keeps the
 * sender's copy of the descriptor open, and reading (into nothing), until the receiver acknowledges the handle,
 * while the receiver may already be answering the client: what the client sends next could be read here and lost.
 */
export function stopReadingForHandoff(socket: Socket): Buffer | null {
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?(): number } })._handle;
  if (handle?.readStop) {
    handle.reading = false;
    handle.readStop();
  }
  return socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
}

/**
 * Node would otherwise count the socket against the HTTP server it came from through the channel, and once the
 * other process has exited, that server's close() never completes. Detached, the husk left behind is destroyed once
 * sent (its descriptor then belongs to the other process), which is when the server stops counting it.
 */
export function detachFromServer(socket: Socket): void {
  (socket as { server?: unknown }).server = null;
}
