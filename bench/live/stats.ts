// Exact percentiles over collected samples (a few hundred thousand numbers at most per run).

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const a = Float64Array.from(values).sort();
  return {
    n: a.length,
    p50: percentile(a, 50),
    p95: percentile(a, 95),
    p99: percentile(a, 99),
    max: a.length ? a[a.length - 1]! : NaN,
  };
}

/** Appends b to a without spread (spread on 100k-element arrays overflows the stack). */
export function append(a: number[], b: number[]): void {
  for (let i = 0; i < b.length; i++) a.push(b[i]!);
}
