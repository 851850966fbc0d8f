// A minimal OpenMetrics (Prometheus) registry: counters, gauges read at scrape time, and histograms, rendered as
// the text exposition format (https://openmetrics.io): `# TYPE`/`# HELP` per family, `_total` counters,
// cumulative `le` buckets, and the closing `# EOF`.

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export class Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class Histogram {
  private counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++)
      if (v <= this.bounds[i]) {
        this.counts[i]++;
        break;
      }
  }
  /** Cumulative counts per bound (the `le` buckets). */
  cumulative(): number[] {
    let acc = 0;
    return this.counts.map((c) => (acc += c));
  }
}

type Family =
  | { kind: 'counter'; name: string; help: string; read: () => number }
  | { kind: 'gauge'; name: string; help: string; read: () => number }
  | { kind: 'histogram'; name: string; help: string; metric: Histogram };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export class MetricsRegistry {
  private families: Family[] = [];

  private add(f: Family): void {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.push(f);
  }

  /** A counter; exposed as `<name>_total`. */
  counter(name: string, help: string): Counter {
    const metric = new Counter();
    this.add({ kind: 'counter', name, help, read: () => metric.value });
    return metric;
  }

  /** A counter kept elsewhere (e.g. by the router), read when scraped; exposed as `<name>_total`. */
  counterFrom(name: string, help: string, read: () => number): void {
    this.add({ kind: 'counter', name, help, read });
  }

  /** A value read when scraped (sessions, occupants, queue depth). */
  gauge(name: string, help: string, read: () => number): void {
    this.add({ kind: 'gauge', name, help, read });
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    const metric = new Histogram(bounds);
    this.add({ kind: 'histogram', name, help, metric });
    return metric;
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# TYPE ${f.name} ${f.kind}`, `# HELP ${f.name} ${escapeHelp(f.help)}`);
      if (f.kind === 'counter') out.push(`${f.name}_total ${num(f.read())}`);
      else if (f.kind === 'gauge') out.push(`${f.name} ${num(f.read())}`);
      else {
        const cum = f.metric.cumulative();
        f.metric.bounds.forEach((b, i) => out.push(`${f.name}_bucket{le="${num(b)}"} ${cum[i]}`));
        out.push(
          `${f.name}_bucket{le="+Inf"} ${f.metric.count}`,
          `${f.name}_sum ${num(f.metric.sum)}`,
          `${f.name}_count ${f.metric.count}`,
        );
      }
    }
    out.push('# EOF');
    return out.join('\n') + '\n';
  }
}
