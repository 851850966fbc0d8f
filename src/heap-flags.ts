// V8 heap settings for a small footprint, for the standalone server (`heap: "small"`, `--heap small`), which has
// its process to itself (the PeerTube plugin runs inside PeerTube's process and leaves its V8 settings alone).
// A join storm is a burst of short-lived objects: with V8's defaults the young generation grows to two 16 MB
// semi-spaces and the old generation is let grow well past what stays alive, ~30 MB of the 400-viewer evening's
// peak RSS (bench/live.ts, README). Not the default: with 10,000 viewers the same flags doubled the server's CPU
// (a large live heap promoted early and marked more often). V8 reads both as the heap grows, so setting them at
// start-up takes effect.
import { setFlagsFromString } from 'node:v8';
import { serverNodeFlags } from './node-flags.js';

/** Keep the young generation at its first size (1 MB semi-spaces); grow the old one by smaller steps. */
export const HEAP_FLAGS: ReadonlyArray<{ flag: string; unlessGiven: RegExp }> = [
  { flag: '--semi-space-growth-factor=1', unlessGiven: /semi[-_]space/ },
  { flag: '--optimize-for-size', unlessGiven: /optimize[-_]for[-_]size/ },
];

/** The flags to set: each one unless node was started with a setting of its own for it. */
export function heapFlagsToSet(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, nodeOptions].join(' ');
  return HEAP_FLAGS.filter((f) => !f.unlessGiven.test(given)).map((f) => f.flag);
}

/**
 * The small-heap flags to set over node's own: the flags `npm start` gives every server (src/node-flags.ts) are
 * not an admin's setting, so `small` still applies over them.
 */
export function smallHeapFlagsFor(execArgv: readonly string[], nodeOptions = ''): string[] {
  const ours = new Set(serverNodeFlags());
  return heapFlagsToSet(
    execArgv.filter((a) => !ours.has(a)),
    nodeOptions,
  );
}

/** Sets the small-heap flags for this process; returns the ones set. */
export function applySmallHeapFlags(execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): string[] {
  const flags = smallHeapFlagsFor(execArgv, nodeOptions);
  for (const f of flags) setFlagsFromString(f);
  return flags;
}
