// Load harness entry: `node --import tsx bench/live.ts --users 400 --target both [--scenario live]`.
// Starts each target in turn on loopback, plays the scenario with simulated ConverseJS-like anonymous viewers, and
// writes a side-by-side table (ours/Prosody), results.json and chart.svg to bench/results/<timestamp>/.
// See bench/live/README.md for how to read the output.
import { availableParallelism, setPriority, tmpdir } from 'node:os';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { harnessCpus, pinTo } from './live/affinity.js';
import { chart } from './live/chart.js';
import { formatHotspots, phaseHotspots } from './live/profile.js';
import { formatAllocations } from './live/alloc-profile.js';
import { errorBreakdown, saturationNotes, table, vcardCaveat } from './live/report.js';
import { runTarget, type TargetResult } from './live/run.js';
import { measureWakeCostMicros } from './live/wake-cost.js';
import { plan, SCENARIOS, type ScenarioName } from './live/scenarios.js';
import { startOurs } from './live/targets/ours.js';
import { startProsody } from './live/targets/prosody.js';
import { TargetUnavailable, type RunningTarget } from './live/targets/process.js';

const HELP = `usage: node --import tsx bench/live.ts [options]
  --users N            simulated viewers (default 400; 10k: 10000)
  --target T           ours | prosody | both | ours-all | ours-edge | ours-tick, or a comma list (default both;
                       Prosody runs first; default ours-all,ours for --scenario storm). ours-all is this server with
                       every presence broadcast to everyone (muc.visibleOccupants.mode "all"): the baseline of the
                       presence design. ours-edge is this server with websocket.edge "process" (WebSocket framing in
                       a child process, whose CPU is reported apart): run it beside ours, e.g. --target ours,ours-edge.
                       ours-tick is this server with c2s.coalesceMs 0 (writes held to the end of the tick only): the
                       baseline of write coalescing
  --scenario S         ${SCENARIOS.join(' | ')} (default live = join storm, chat, nick wave, leave;
                       storm = join storm, nick wave, leave, without vCards unless --vcards says otherwise;
                       10k = 10,000 viewers joining at 200/s, then chat reaching all of them)
  --duration S         seconds of chat in chat phases (default 30; 10k: 15)
  --rate R             room-wide chat messages per second (default 20; 10k: 2)
  --senders N          viewers taking turns to talk (default 50; 10k: 10)
  --join-rate R        viewers per second for join-10ps and scale (default 10), storm and 10k (default 200)
  --presence-broadcast all | moderator[,participant,visitor]: the room's muc#roomconfig_presencebroadcast, set
                       by the streamer when it creates the room (default: the server's)
  --nick-window S      seconds over which the nick wave is spread (default 10)
  --scale-steps LIST   occupant counts for scale (default 400,2000,10000)
  --vcards MODE        all | self | none: which vCards viewers fetch (default all; scale defaults to self)
  --vcard-on-rename    fetch a renamed occupant's vCard again under its new nick (default: keep the one it has)
  --join-history H     mam | muc (default mam): mam joins as ConverseJS does in a room with MAM (<history
                       maxstanzas='0'/>, then a MAM page of the last 50: the viewer has its history when that page
                       arrives); muc joins with the room's default history (20 messages) and still asks for the MAM
                       page, the viewer having its history at the room subject (this harness before 2026-12-05)
  --no-sm              do not enable stream management (XEP-0198); by default viewers enable it where the server
                       offers it, answer its ack requests and ask for acks of their own, as ConverseJS does
                       (this harness before 2026-12-05 did not)
  --sm-request-every N a viewer's own ack request after every N stanzas it sends (default 20, as the shipped web
                       chat configures ConverseJS; 5 is ConverseJS's own default, and this harness's until then)
  --transport T        websocket | bosh (default websocket)
  --no-deflate         do not offer permessage-deflate (browsers do offer it)
  --workers N          client worker processes (default cores-1, at least 1); each one's CPU is printed, and a
                       warning says when one passes 85% of a core (then the clients may be the limit)
  --no-client-warm-up  measure with cold client workers: by default, before each target's first phase they run a
                       storm of up to 400 viewers against a throwaway server of ours (port P+40) that is then
                       stopped, so that the first storm measures a cold server, not a cold load generator
  --port-base P        first loopback port to use (default 16000; prosody P+10, ours P+20, warm-up P+40)
  --iq-timeout S       iq timeout (default 60), --join-timeout S (default 180), --phase-timeout S (default 600)
  --seed-messages N    messages posted by the streamer before viewers come (default 60)
  --prosody-log LEVEL  Prosody log level (default info, as livechat under PeerTube's default)
  --prosody-avatars A  livechat | ours: Prosody's vCards embed livechat-like ~4 KB random PNGs (default) or
                       this server's computed avatars (same bytes on both: compares CPU per vCard alone)
  --out DIR            results folder (default bench/results/<timestamp>)
  --keep               keep the servers' temp folders (config, data, logs)
  --cpu-prof           profile our server (node --cpu-prof) and print each phase's top functions by self time;
                       the profile is saved as ours.cpuprofile in the results folder (opens in Chrome DevTools)
  --alloc-prof         sample what our server allocates in each phase (V8's sampling heap profiler through node
                       --inspect on a loopback port, collected objects included) and print it by origin (XML
                       parser, WebSocket library, this server, Node) and by function; costs the server some CPU;
                       each phase's profile, stacks included, is saved as <target>-<phase>.heapprofile in the
                       results folder (opens in Chrome DevTools' Memory tab)
  --client-cpu-prof    profile the client workers (node --cpu-prof) and print each phase's top functions by self
                       time; saved as <target>-client-N.cpuprofile in the results folder
  --ours-config JSON   configuration sections merged into each of our targets' config, one level deep, e.g.
                       '{"c2s":{"coalesceMs":250}}' or '{"rehearsal":false}' (to compare a setting: run it
                       against a plain run)
  --small-heap         run our server with heap: "small" (V8 flags for a small footprint)
  --node-args ARGS     node flags for our server, space-separated (e.g. "--max-semi-space-size=1 --trace-gc"), over
                       those of package.json's start script, which it gets as npm start gives them (a flag
                       here replaces the same one of them; =0 gives V8's default for the heap size ones)
  --nice N             renice each server process to N (e.g. -5 on a machine shared with other work; needs root)
  --pin                the server on CPU 0, the load generator (this process and its client workers) on the
                       others (taskset; Linux, at least 2 CPUs): they no longer share a core`;

const here = dirname(fileURLToPath(import.meta.url));
/** Viewers in the client workers' warm-up storm (fewer when the run has fewer). */
const WARM_UP_VIEWERS = 400;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * --ours-config: its sections merged over each of our targets' own (one level deep: {"c2s": {...}}); a top-level
 * setting that is no section ({"rehearsal": false}) replaces the target's.
 */
function withOursConfig(
  config: Record<string, unknown> | undefined,
  extra: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!extra) return config;
  const out: Record<string, unknown> = { ...config };
  for (const [k, v] of Object.entries(extra))
    out[k] = isObject(v) ? { ...(out[k] as Record<string, unknown> | undefined), ...v } : v;
  return out;
}

function parseOursConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`--ours-config is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(v) || Object.values(v).some(Array.isArray))
    throw new Error('--ours-config must be an object of sections or settings, e.g. {"c2s":{"coalesceMs":250}}');
  return v;
}

function withSmallHeap(
  config: Record<string, unknown> | undefined,
  small: boolean,
): Record<string, unknown> | undefined {
  return small ? { ...config, heap: 'small' } : config;
}

/** Cuts the server's CPU profile by phase; keeps the profile beside the results. */
async function profileByPhase(
  dir: string,
  outDir: string,
  run: TargetResult,
  log: (s: string) => void,
  name: string,
): Promise<string> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== 1) {
    const msg = `${name}: --cpu-prof: expected one profile in ${dir}, found ${files.length} (did the server exit cleanly?)`;
    log(msg);
    return msg;
  }
  await copyFile(join(dir, files[0]!), join(outDir, `${name}.cpuprofile`));
  return formatHotspots(name, await phaseHotspots(join(dir, files[0]!), run.phases));
}

/**
 * Cuts each client worker's CPU profile by phase (top functions only) and keeps it beside the results. A worker
 * writes one profile per thread (tsx's module loader runs in a thread of its own); the main thread's (thread id 0
 * in node's default file name) is the one running the viewers.
 */
async function clientProfilesByPhase(dir: string, outDir: string, run: TargetResult, name: string): Promise<string> {
  const workers = (await readdir(dir).catch(() => [] as string[])).sort();
  const out: string[] = [];
  for (const w of workers) {
    const main = (await readdir(join(dir, w))).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (!main) continue;
    await copyFile(join(dir, w, main), join(outDir, `${name}-${w}.cpuprofile`));
    // the server's handler kinds mean nothing for a client: keep the top functions only
    const profiles = (await phaseHotspots(join(dir, w, main), run.phases, 15)).map((p) => ({ ...p, kinds: [] }));
    out.push(formatHotspots(`${name} ${w}`, profiles));
  }
  return out.length ? out.join('\n') : `${name}: --client-cpu-prof: no client profile in ${dir}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      target: { type: 'string' },
      scenario: { type: 'string', default: 'live' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      senders: { type: 'string', default: '50' },
      'join-rate': { type: 'string' },
      'presence-broadcast': { type: 'string' },
      'nick-window': { type: 'string', default: '10' },
      'scale-steps': { type: 'string', default: '400,2000,10000' },
      vcards: { type: 'string' },
      'no-deflate': { type: 'boolean', default: false },
      transport: { type: 'string', default: 'websocket' },
      'vcard-on-rename': { type: 'boolean', default: false },
      'no-sm': { type: 'boolean', default: false },
      'sm-request-every': { type: 'string', default: '20' },
      'join-history': { type: 'string', default: 'mam' },
      workers: { type: 'string' },
      'port-base': { type: 'string', default: '16000' },
      'iq-timeout': { type: 'string', default: '60' },
      'join-timeout': { type: 'string', default: '180' },
      'phase-timeout': { type: 'string', default: '600' },
      'seed-messages': { type: 'string', default: '60' },
      'prosody-log': { type: 'string', default: 'info' },
      'prosody-avatars': { type: 'string', default: 'livechat' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'alloc-prof': { type: 'boolean', default: false },
      'client-cpu-prof': { type: 'boolean', default: false },
      'no-client-warm-up': { type: 'boolean', default: false },
      'node-args': { type: 'string', default: '' },
      'small-heap': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      'ours-config': { type: 'string' },
      nice: { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number in [${min}, ${max}], got ${v}`);
    return n;
  };
  const scenario = values.scenario as ScenarioName;
  const oursConfig = parseOursConfig(values['ours-config']);
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const targetArg = values.target ?? (scenario === 'storm' ? 'ours-all,ours' : 'both');
  const KNOWN_TARGETS = ['ours', 'prosody', 'ours-all', 'ours-edge', 'ours-tick'];
  const targets: string[] = targetArg === 'both' ? ['prosody', 'ours'] : targetArg.split(',');
  if (!targets.length || targets.some((t) => !KNOWN_TARGETS.includes(t)))
    throw new Error('--target must be ours, prosody, ours-all, ours-edge, ours-tick, both or a comma list of them');
  const scaleSteps = values['scale-steps']!.split(',').map((s) => num('scale-steps', s, 1, 20_000));
  const big = scenario === '10k';
  const users =
    scenario === 'scale' ? Math.max(...scaleSteps) : num('users', values.users ?? (big ? '10000' : '400'), 1, 20_000);
  const vcards = (values.vcards ?? (scenario === 'scale' || big ? 'self' : scenario === 'storm' ? 'none' : 'all')) as
    'all' | 'self' | 'none';
  // By default the room keeps the server's presence design (visible occupants); --presence-broadcast overrides it.
  const broadcast = values['presence-broadcast'];
  if (
    broadcast !== undefined &&
    !/^(all|(moderator|participant|visitor)(,(moderator|participant|visitor))*)$/.test(broadcast)
  ) {
    throw new Error('--presence-broadcast must be all or a comma-separated list of moderator, participant, visitor');
  }
  const roomConfig =
    broadcast && broadcast !== 'all' ? { 'muc#roomconfig_presencebroadcast': broadcast.split(',') } : undefined;
  if (!['websocket', 'bosh'].includes(values.transport!)) throw new Error('--transport must be websocket or bosh');
  if (!['all', 'self', 'none'].includes(vcards)) throw new Error('--vcards must be all, self or none');
  const joinHistory = values['join-history'];
  if (joinHistory !== 'mam' && joinHistory !== 'muc') throw new Error('--join-history must be mam or muc');
  if (!['livechat', 'ours'].includes(values['prosody-avatars']!))
    throw new Error('--prosody-avatars must be livechat or ours');
  const cores = availableParallelism(); // before --pin narrows this process's CPUs
  const workers = values.workers ? num('workers', values.workers, 1, 64) : Math.max(1, cores - 1);
  // The client workers forked later inherit this process's CPUs.
  if (values.pin) pinTo(process.pid, harnessCpus());
  const portBase = num('port-base', values['port-base']!, 1024, 65000);
  const phases = plan(scenario, {
    users,
    chatRate: num('rate', values.rate ?? (big ? '2' : '20'), 0, 10_000),
    chatSeconds: num('duration', values.duration ?? (big ? '15' : '30'), 1, 3600),
    joinRate: num('join-rate', values['join-rate'] ?? (big || scenario === 'storm' ? '200' : '10'), 0.1, 10_000),
    nickWindowSeconds: num('nick-window', values['nick-window']!, 0, 600),
    senders: num('senders', values.senders ?? (big ? '10' : '50'), 1, 20_000),
    scaleSteps,
  });

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  const outDir = resolve(values.out ?? join(here, 'results', stamp));
  await mkdir(outDir, { recursive: true });
  const baseDir = await mkdtemp(join(tmpdir(), 'bench-live-'));
  const log = (s: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const command = `node --import tsx bench/live.ts ${process.argv.slice(2).join(' ')}`.trim();
  log(
    `${command}\n  scenario ${scenario}: ${phases.map((p) => p.label).join(' → ')}; ${users} viewers; ${workers} client worker(s); history on join from ${joinHistory === 'mam' ? 'a MAM page (no MUC history)' : 'the MUC history'}; results in ${outDir}`,
  );

  // Before any server starts: the machine's price of a wake-up, which the chat's CPU per delivery is read against.
  const wakeCostMicros = await measureWakeCostMicros();
  const wakeNote = `this machine: an idle node process spends ${Number.isNaN(wakeCostMicros) ? 'an unknown amount' : `${wakeCostMicros.toFixed(0)} µs`} of CPU per timer wake-up (100 wake-ups, measured at the start of this run)`;
  log(wakeNote);

  const results: TargetResult[] = [];
  const hotspots: string[] = [];
  const unavailable: string[] = [];
  const room = 'livestream@room.localhost';
  for (const name of targets) {
    let target: RunningTarget | undefined;
    try {
      target =
        name === 'prosody'
          ? await startProsody({
              baseDir,
              httpPort: portBase + 10,
              room,
              logLevel: values['prosody-log']!,
              avatars: values['prosody-avatars'] === 'ours' ? 'ours' : 'livechat',
              log,
            })
          : await startOurs({
              baseDir,
              httpPort: portBase + 20,
              room,
              log,
              name,
              cpuProfDir: values['cpu-prof'] ? join(baseDir, `${name}-prof`) : undefined,
              allocProf: values['alloc-prof'] ? join(outDir, `${name}-`) : undefined,
              nodeArgs: values['node-args']!.split(/\s+/).filter(Boolean),
              config: withOursConfig(
                withSmallHeap(
                  name === 'ours-all'
                    ? { muc: { visibleOccupants: { mode: 'all' } } }
                    : name === 'ours-edge'
                      ? { websocket: { edge: 'process' } }
                      : name === 'ours-tick'
                        ? { c2s: { coalesceMs: 0 } }
                        : undefined,
                  values['small-heap']!,
                ),
                oursConfig,
              ),
            });
      log(`${name}: started, pid ${target.pid}: ${target.description}`);
      if (values.pin) {
        // every thread of the server (its children started from now on inherit CPU 0 too)
        pinTo(target.pid, '0');
        log(`${name}: server pinned to CPU 0`);
      }
      const nice = num('nice', values.nice!, -20, 19);
      if (nice !== 0) {
        // same priority for every target's server process, so that other programs on a shared machine disturb less
        setPriority(target.pid, nice);
        log(`${name}: server process reniced to ${nice}`);
      }
      const r = await runTarget(target, phases, {
        users,
        workers,
        viewer: {
          transport: values.transport === 'bosh' ? 'bosh' : 'websocket',
          deflate: !values['no-deflate'],
          vcards,
          vcardOnRename: values['vcard-on-rename']!,
          streamManagement: !values['no-sm'],
          smRequestEvery: num('sm-request-every', values['sm-request-every']!, 1, 10_000),
          mamMax: 50,
          joinHistory,
          iqTimeoutMs: num('iq-timeout', values['iq-timeout']!, 1, 3600) * 1000,
          joinTimeoutMs: num('join-timeout', values['join-timeout']!, 1, 3600) * 1000,
          roomConfig,
        },
        seedMessages: num('seed-messages', values['seed-messages']!, 0, 10_000),
        phaseTimeoutMs: num('phase-timeout', values['phase-timeout']!, 10, 7200) * 1000,
        warmUp: values['no-client-warm-up']
          ? undefined
          : {
              viewers: Math.min(users, WARM_UP_VIEWERS),
              start: () =>
                startOurs({
                  baseDir,
                  httpPort: portBase + 40,
                  room,
                  log,
                  name: 'warm-up',
                  config: { rehearsal: false },
                }),
            },
        clientCpuProfDir: values['client-cpu-prof'] ? join(baseDir, `${name}-client-prof`) : undefined,
        wakeCostMicros,
        log,
      });
      results.push(r);
      if (name === 'prosody') {
        await copyFile(join(baseDir, 'prosody', 'prosody.cfg.lua'), join(outDir, 'prosody.cfg.lua')).catch(() => {});
      }
    } catch (e) {
      const msg = `${name}: ${e instanceof TargetUnavailable ? 'not available' : 'failed'}: ${(e as Error).message}`;
      log(msg);
      unavailable.push(msg);
    } finally {
      if (target) {
        await target.stop();
        log(`${name}: stopped`);
        const run = results.find((r) => r.target === name);
        if (name !== 'prosody' && values['cpu-prof'] && run)
          hotspots.push(await profileByPhase(join(baseDir, `${name}-prof`), outDir, run, log, name));
        if (run?.phases.some((p) => p.allocations))
          hotspots.push(
            formatAllocations(
              name,
              run.phases.flatMap((p) => (p.allocations ? [p.allocations] : [])),
            ),
          );
        if (values['client-cpu-prof'] && run)
          hotspots.push(await clientProfilesByPhase(join(baseDir, `${name}-client-prof`), outDir, run, name));
        await copyFile(target.logPath, join(outDir, `${name}.log`)).catch(() => {});
      }
    }
    await new Promise((r) => setTimeout(r, 2000)); // let the machine settle between targets
  }
  if (!values.keep) await rm(baseDir, { recursive: true, force: true });
  else log(`servers' folders kept in ${baseDir}`);

  if (results.length === 0) {
    log('no target could be measured');
    await writeFile(join(outDir, 'unavailable.txt'), unavailable.join('\n') + '\n');
    return 1;
  }
  const t = table(results);
  const date = new Date().toISOString();
  const heading = `${scenario}, ${users} viewers${roomConfig ? `, presence broadcast ${broadcast}` : ''}, ${date.slice(0, 16).replace('T', ' ')} UTC, ${cores} cores, ${workers} client worker(s)${values.pin ? ', server pinned to CPU 0 and the load generator to the others' : ''}`;
  const notes = [
    ...results.map((r) => `${r.target}: ${r.description}`),
    ...unavailable,
    ...saturationNotes(results),
    wakeNote,
    ...errorBreakdown(results),
    vcardCaveat(results),
    t.slower.length ? `ours is worse than the baseline on: ${t.slower.join('; ')}` : '',
  ].filter(Boolean);
  const prof = hotspots.length ? `\n${hotspots.join('\n')}\n` : '';
  console.log(`\n${heading}\n\n${t.text}\n\n${notes.join('\n')}\n${prof}`);
  await writeFile(join(outDir, 'table.txt'), `${command}\n${heading}\n\n${t.text}\n\n${notes.join('\n')}\n${prof}`);
  await writeFile(
    join(outDir, 'table.md'),
    `\`${command}\` — ${heading}\n\n${t.markdown}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
  );
  const svg = chart(results, heading);
  await writeFile(join(outDir, 'chart.svg'), svg);
  await sharp(Buffer.from(svg))
    .png()
    .toFile(join(outDir, 'chart.png'))
    .catch(() => {}); // for viewers without SVG
  await writeFile(
    join(outDir, 'results.json'),
    JSON.stringify(
      { command, date, scenario, users, workers, vcards, joinHistory, phases, unavailable, results },
      (k, v) =>
        // raw samples are large; keep the summaries in the table and the timeline in the chart
        k === 'samples' ? undefined : v,
      1,
    ),
  );
  log(`wrote ${join(outDir, 'table.txt')}, table.md, chart.svg, chart.png, results.json`);
  return unavailable.length && targetArg === 'both' ? 2 : 0;
}

if (!existsSync('/proc/self/stat')) {
  console.error('bench/live needs Linux /proc to measure server CPU and memory');
  process.exit(1);
}
main().then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
