// Holds a socket's writes until the end of the current tick, so the frames a fan-out loop writes to one socket
// leave in one syscall (writev) instead of one each.
import type { Writable } from 'node:stream';

export class TickCork {
  private corked = false;

  /** Call before each write; the socket is uncorked on the next tick. */
  hold(socket: Writable): void {
    if (this.corked) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
