// Holds a socket's writes until the end of the current tick, so the frames a fan-out loop writes to one socket
// leave in one syscall (writev) instead of one each.
import type { Writable } from 'node:stream';

/**
 * Sockets corked in the current tick, uncorked together by one nextTick callback: a fan-out to N sockets schedules
 * one callback, not one closure per socket.
 */
let held: TickCork[] = [];
function uncorkAll(): void {
  const list = held;
  held = [];
  for (const c of list) c.release();
}

export class TickCork {
  private socket: Writable | null = null;

  /** Call before each write; the socket is uncorked on the next tick. */
  hold(socket: Writable): void {
    if (this.socket) return;
    this.socket = socket;
    socket.cork();
    if (held.push(this) === 1) process.nextTick(uncorkAll);
  }

  /** Uncorks the held socket (from the shared end-of-tick callback). */
  release(): void {
    const s = this.socket;
    this.socket = null;
    s?.uncork();
  }
}
