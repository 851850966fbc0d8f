// Bounds how many image jobs run at once in libuv's thread pool, which DNS lookups and file I/O share: a join
// storm of PeerTube users with new avatars queues here instead of starving the rest of the server.
export class Limiter {
  private running = 0;
  private queue: Array<() => void> = [];

  constructor(readonly max: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  get pending(): number {
    return this.queue.length;
  }
}
