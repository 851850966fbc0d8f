// A release that costs more than one socket write (a BOSH response and the request it brings back) counts that much
// in the coalescer's write budget: the same crowd, the same messages, widens the window only where releases are dear.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldWrites, WriteCoalescer } from '../../src/xmpp/write-coalescing.js';

class Counted extends HeldWrites {
  releases = 0;
  hold(): void {
    this.schedule(true);
  }
  protected heldBytes(): number {
    return 0;
  }
  protected writeOut(): void {
    this.releases++;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('releases that cost six writes widen the window where the same releases at one write do not', async () => {
  // 4 busy connections each releasing about once per 10 ms window: ~400 releases a second against a budget of 1,000.
  const options = { windowMs: 10, maxHeldBytes: 1 << 20, maxWindowMs: 1000, writesPerSecond: 1000 };
  const cheap = new WriteCoalescer(options);
  const dear = new WriteCoalescer(options);
  const conns = [
    ...Array.from({ length: 4 }, () => new Counted(cheap, 1)),
    ...Array.from({ length: 4 }, () => new Counted(dear, 6)),
  ];
  const until = Date.now() + 1600; // the window is re-fitted every 500 ms
  while (Date.now() < until) {
    for (const c of conns) c.hold();
    await sleep(2);
  }
  assert.is(cheap.windowMs, 10, `one write per release: window ${cheap.windowMs} ms`);
  assert.ok(dear.windowMs > 15, `six writes per release: window ${dear.windowMs} ms`);
  const cheapReleases = conns.slice(0, 4).reduce((n, c) => n + c.releases, 0);
  const dearReleases = conns.slice(4).reduce((n, c) => n + c.releases, 0);
  assert.ok(dearReleases < cheapReleases, `releases: ${dearReleases} dear against ${cheapReleases} cheap`);
});

test.run();
