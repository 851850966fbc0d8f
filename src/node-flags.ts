// The node flags the standalone server starts with, and the environment it starts in. Their one definition is
// package.json's `start` script (what `npm start` runs: `NAME=value node <flags> dist/src/cli.js`); the benchmark's
// server and the small-heap switch read them from there. A V8 young-generation maximum can only be set on node's
// command line, and glibc reads its malloc settings (MALLOC_ARENA_MAX) from the environment before node starts,
// which is why they live there.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const ENV_WORD = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/;

/** The words of a `NAME=value … node <flags> <script>` command, split at `node`. */
function splitStartScript(script: string): { env: string[]; rest: string[] } {
  const words = script.trim().split(/\s+/);
  const at = words.findIndex((w) => !ENV_WORD.test(w));
  if (words[at] !== 'node') throw new Error(`package.json start script does not run node: ${script}`);
  return { env: words.slice(0, at), rest: words.slice(at) };
}

/** The flags between `node` and the script in a `NAME=value … node <flags> <script>` command. */
export function flagsOfStartScript(script: string): string[] {
  const words = splitStartScript(script).rest;
  const end = words.findIndex((w, i) => i > 0 && !w.startsWith('-'));
  if (end < 0) throw new Error(`package.json start script names no script to run: ${script}`);
  return words.slice(1, end);
}

/** The environment variables a `NAME=value … node <flags> <script>` command sets before `node`. */
export function envOfStartScript(script: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const w of splitStartScript(script).env) {
    const m = ENV_WORD.exec(w)!;
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** This project's package.json: beside src/ (run through tsx) or two folders up from dist/src/. */
function packageJsonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 3; up++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'package.json');
  }
  throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
}

function startScript(): string {
  const pkg = JSON.parse(readFileSync(packageJsonPath(), 'utf8')) as { scripts?: { start?: string } };
  return pkg.scripts?.start ?? 'node dist/src/cli.js';
}

/** The node flags `npm start` gives the server. */
export function serverNodeFlags(): string[] {
  return flagsOfStartScript(startScript());
}

/**
 * The environment `npm start` gives the server, over `base`: a variable `base` already sets keeps its value (the
 * user's own choice wins, as with flags).
 */
export function serverEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [k, v] of Object.entries(envOfStartScript(startScript()))) env[k] ??= v;
  return env;
}

/** A flag's name, V8's `_` and `-` spellings made one and `--no-` dropped (`--max_semi_space_size=4` → `--max-semi-space-size`). */
export function flagName(flag: string): string {
  return flag
    .split('=')[0]!
    .replace(/_/g, '-')
    .replace(/^--no-/, '--');
}

/** The default flags the user's own do not set, then the user's: a flag of theirs wins over ours. */
export function withUserFlags(defaults: readonly string[], user: readonly string[]): string[] {
  const theirs = new Set(user.map(flagName));
  return [...defaults.filter((f) => !theirs.has(flagName(f))), ...user];
}

/** NODE_OPTIONS flags that node's command line sets to another value: node lets the command line win. */
export function overriddenNodeOptions(execArgv: readonly string[], nodeOptions = ''): string[] {
  const onCommandLine = new Set(execArgv.map(flagName));
  return nodeOptions
    .split(/\s+/)
    .filter((f) => f.startsWith('--') && onCommandLine.has(flagName(f)) && !execArgv.includes(f));
}

/**
 * What the server logs at start: its node flags, V8's heap limit (which a young-generation maximum changes) and
 * glibc's arena limit when one is set.
 */
export function heapLine(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): string {
  const limit = Math.round(getHeapStatistics().heap_size_limit / 1048576);
  const arenas = env.MALLOC_ARENA_MAX ? `, MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}` : '';
  return `node ${process.version}${execArgv.length ? ` ${execArgv.join(' ')}` : ''}: V8 heap limit ${limit} MB${arenas}`;
}
