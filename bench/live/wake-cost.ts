// What this machine charges a Node process for waking up: an idle `node` child woken by a timer, its main thread's
// CPU per wake-up by the scheduler's own count (/proc/self/task/PID/schedstat). On a bare machine that is a few µs;
// on the VMs these benchmarks run on it has been ~180 µs, and a server at a live's pace wakes a few times per
// message, so the chat's CPU per delivery is printed beside what its wake-ups alone would cost at this price.
import { execFile } from 'node:child_process';

const WAKEUPS = 100;
const INTERVAL_MS = 20;

// The child reads its main thread's run time at a first wake-up and again after WAKEUPS more.
const CHILD = `
const { readFileSync } = require('node:fs');
const run = () => Number(readFileSync('/proc/self/task/' + process.pid + '/schedstat', 'utf8').split(' ')[0]);
let n = 0, start = 0;
function wake() {
  if (n === 0) start = run();
  if (n++ === ${WAKEUPS}) return process.stdout.write(String((run() - start) / 1e3 / ${WAKEUPS}));
  setTimeout(wake, ${INTERVAL_MS});
}
setTimeout(wake, 300);
`;

/** µs of CPU an idle node process spends per timer wake-up here, NaN where the kernel does not say. */
export function measureWakeCostMicros(): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', CHILD], { timeout: 30_000 }, (err, stdout) => {
      const us = Number(stdout);
      resolve(err || !(us > 0) ? NaN : us);
    });
  });
}
