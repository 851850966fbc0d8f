// Cost of running the moderation bot's rules on re2js (linear time) instead of JavaScript's backtracking RegExp:
// the same livechat-style forbidden-words rule over the same chat lines, native RegExp as the same-run baseline.
// Then one adversarial line against a catastrophic pattern, on re2js only (native would not return).
// Usage: npm run bench:bot [-- --lines 20000 --words 200]
import { compileSafe } from '../src/bot/safe-regexp.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LINES = arg('lines', 20000);
const WORDS = arg('words', 200);

// livechat's rule shape: escaped words with word boundaries, joined into one alternation.
const words = Array.from({ length: WORDS }, (_, i) => `badword${i}`);
const source = '(?:' + words.map((w) => `\\b${w}\\b`).join(')|(?:') + ')';
const vocabulary = [
  'hello',
  'what a play',
  'gg',
  'lol',
  'is the stream lagging?',
  'nice',
  'first time here',
  '😀😀',
  'badword7 here',
];
const lines = Array.from({ length: LINES }, (_, i) => `${vocabulary[i % vocabulary.length]} ${i}`);

function run(name: string, test: (s: string) => boolean): number {
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (const l of lines) if (test(l)) hits++;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `${name.padEnd(22)} ${(LINES / (ms / 1000)).toFixed(0).padStart(10)} lines/s  (${ms.toFixed(1)} ms, ${hits} hits)`,
  );
  return ms;
}

const native = new RegExp(source, 'i');
const safe = compileSafe(source, 'i');
run('native RegExp (warm)', (s) => native.test(s));
const base = run('native RegExp', (s) => native.test(s));
run('re2js (warm)', (s) => safe.test(s));
const ours = run('re2js', (s) => safe.test(s));
console.log(`re2js / native time: ${(ours / base).toFixed(1)}x for ${WORDS} words, ${LINES} lines`);

const evil = compileSafe('(a+)+$');
const input = `${'a'.repeat(5000)}!`;
const t0 = process.hrtime.bigint();
evil.test(input);
console.log(
  `(a+)+$ on 5,000 a's + '!': re2js ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms (native backtracking: exponential, not run)`,
);
