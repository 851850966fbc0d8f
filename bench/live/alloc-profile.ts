// Where a phase's garbage comes from: V8's sampling heap profiler on our server, through its inspector (node
// --inspect on a loopback port), started and stopped at each phase's bounds. Objects already collected are counted
// too, so the figures are what each function allocated during the phase (a storm's ~300 MB), not what it left
// alive: what decides how often the young generation is collected (--cpu-prof shows GC at 15-20% of a storm).
import { readFile, writeFile } from 'node:fs/promises';
import { WebSocket } from 'ws';

/** Bytes allocated per function (self, sampled), for one phase. */
export interface PhaseAllocations {
  label: string;
  totalBytes: number;
  top: Array<{ fn: string; bytes: number }>;
  /** By code of origin: the XML parser, the WebSocket library, this server's own code, Node's own, others. */
  byOrigin: Array<{ origin: string; bytes: number }>;
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** One allocation sample per this many bytes on average: a stack walk each, ~10,000 per 400-viewer storm. */
const SAMPLING_INTERVAL = 32_768;

export class AllocationProfiler {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: { result?: unknown; error?: { message: string } }) => void>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly savePrefix: string | undefined,
  ) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (m.id !== undefined) {
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      }
    });
  }

  /**
   * Connects to the inspector a server started with --inspect=127.0.0.1:0 announced in its log. With `savePrefix`
   * (a folder and a name's start), each phase's whole profile is saved too, stacks included, as
   * `<savePrefix><phase>.heapprofile` (it opens in Chrome DevTools' Memory tab).
   */
  static async attach(logPath: string, savePrefix?: string, timeoutMs = 10_000): Promise<AllocationProfiler> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(await readFile(logPath, 'utf8'))?.[1];
      if (url) {
        const ws = new WebSocket(url);
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        return new AllocationProfiler(ws, savePrefix);
      }
      if (Date.now() > until) throw new Error(`--alloc-prof: no inspector address in ${logPath}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (m) =>
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T),
      );
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.call('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  async stop(label: string, topN = 12): Promise<PhaseAllocations> {
    const { profile } = await this.call<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
    if (this.savePrefix !== undefined) {
      const slug = label.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
      await writeFile(`${this.savePrefix}${slug}.heapprofile`, JSON.stringify(profile));
    }
    const byFn = new Map<string, number>();
    const byOrigin = new Map<string, number>();
    let totalBytes = 0;
    const walk = (n: ProfileNode): void => {
      if (n.selfSize) {
        const { functionName, url, lineNumber } = n.callFrame;
        const fn = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
        byFn.set(fn, (byFn.get(fn) ?? 0) + n.selfSize);
        const origin = originOf(url);
        byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + n.selfSize);
        totalBytes += n.selfSize;
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    const sorted = <K extends string>(m: Map<string, number>, key: K) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, bytes]) => ({ [key]: k, bytes }) as { bytes: number } & Record<K, string>);
    return { label, totalBytes, top: sorted(byFn, 'fn').slice(0, topN), byOrigin: sorted(byOrigin, 'origin') };
  }

  close(): void {
    this.ws.terminate();
  }
}

function originOf(url: string): string {
  if (url.includes('/node_modules/saxes/')) return 'XML parser (saxes)';
  if (url.includes('/node_modules/ws/')) return 'WebSocket library (ws)';
  if (url.includes('/node_modules/ltx/')) return 'XML elements (ltx)';
  if (url.includes('/node_modules/')) return 'other libraries';
  if (url.includes('/dist/src/')) return 'this server';
  if (url.startsWith('node:')) return "Node's own";
  return 'other (V8 built-ins, native)';
}

export function formatAllocations(name: string, phases: PhaseAllocations[]): string {
  const mb = (b: number) => (b / 1e6).toFixed(1).padStart(7);
  const out: string[] = [];
  for (const p of phases) {
    out.push(`${name}, "${p.label}": allocated ${mb(p.totalBytes).trim()} MB (sampled; collected objects included)`);
    for (const o of p.byOrigin) out.push(`  ${mb(o.bytes)} MB  ${o.origin}`);
    out.push('  top functions by bytes allocated:');
    for (const f of p.top) out.push(`  ${mb(f.bytes)} MB  ${f.fn}`);
  }
  return out.join('\n');
}
