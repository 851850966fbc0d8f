// More accepts per event-loop turn for a listening socket.
//
// Node's libuv (since libuv pull request 3696, as in Node 20) accepts one connection per listening handle per turn
// of the event loop. A server busy with a join storm turns its loop every 20–80 ms, so the last few dozen of 400
// viewers connecting at once waited in the kernel's accept queue for 1.5 s, one accept per turn. Every handle on
// the same listening socket accepts one connection per turn, so N extra handles take N + 1 connections per turn
// from the one queue. Node has no dup(), but a handle sent over an IPC channel arrives as a new descriptor: a
// short-lived child sends the listening handle back N times, then exits.
import { spawn } from 'node:child_process';
import { Server as NetServer, type Server, type Socket } from 'node:net';

/**
 * The child: sends back the handle it was given `copies` times; it ends when the parent disconnects. The handle
 * travels bare (not as a net.Server), so the child never listens on it and can take no connection. `on`, not
 * `once`: without a 'message' listener the channel no longer holds the child, which could exit before its sends.
 */
const ECHO = `process.on('message', (m, handle) => {
  let left = m.copies;
  const next = () => { if (left-- > 0) process.send('copy', handle, next); };
  next();
});`;

const START_TIMEOUT_MS = 10_000;

export interface AcceptHandles {
  /** How many extra handles accept on the socket (0 when none could be made). */
  readonly count: number;
  /**
   * Bare handles on the same socket that accept nothing (`spares`): the listening socket stays open through them
   * when every accepting handle of this process is closed, and more accepting copies can be made from one later.
   */
  readonly spares: unknown[];
  close(): void;
}

export interface AcceptHandleOptions {
  /** Handles to make that accept, each feeding `onConnection`. */
  copies: number;
  /** Bare handles to make besides (see AcceptHandles.spares). */
  spares?: number;
  backlog: number;
  onConnection: (socket: Socket) => void;
}

/**
 * Adds handles accepting on the listening socket of `source` (a listening server, or a bare handle such as a spare);
 * their connections go to `onConnection`. Resolves with none (and the reason, for the log) when the copies cannot
 * be made: the server then accepts as Node does.
 */
export function addAcceptHandles(
  source: Server | { bare: unknown },
  opts: AcceptHandleOptions,
): Promise<AcceptHandles & { error?: string }> {
  const { copies, backlog, onConnection } = opts;
  const spareCount = opts.spares ?? 0;
  const none = (error?: string) => ({ count: 0, spares: [], close() {}, ...(error ? { error } : {}) });
  const wanted = copies + spareCount;
  if (wanted <= 0) return Promise.resolve(none());
  return new Promise((resolve) => {
    const handles: Server[] = [];
    const spares: unknown[] = [];
    const closeAll = () => {
      for (const h of handles.splice(0)) h.close();
    };
    let settled = false;
    // No inherited NODE_OPTIONS (a loader, an inspector port): the child needs nothing but node itself.
    const child = spawn(process.execPath, ['-e', ECHO], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const made = () => handles.length + spares.length;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.connected) child.disconnect();
      if (error) {
        closeAll();
        child.kill();
        resolve(none(error));
      } else {
        resolve({ count: handles.length, spares, close: closeAll });
      }
    };
    const timer = setTimeout(() => finish(`no copies after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.on('message', (_msg, handle) => {
      if (!handle) return;
      if (settled) {
        (handle as { close?(): void }).close?.();
        return;
      }
      if (handles.length < copies) {
        const copy = new NetServer(onConnection);
        copy.once('error', (err) => finish(err.message));
        // listen() on a bare handle calls listen(2) again: with the original's backlog, not Node's 511
        copy.listen(handle, backlog);
        handles.push(copy);
      } else {
        spares.push(handle);
      }
      if (made() === wanted) finish();
    });
    child.on('error', (err) => finish(err.message));
    child.on('exit', (code) => finish(made() === wanted ? undefined : `helper exited (${code})`));
    const bare = 'bare' in source ? source.bare : (source as unknown as { _handle?: unknown })._handle;
    if (!bare) return finish('the server is not listening');
    child.send({ copies: wanted }, bare as Server, (err) => {
      if (err) finish(err.message);
    });
  });
}
