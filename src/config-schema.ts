// Tiny validation helpers for the typed config: every failure names the field and what is wrong.

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`config: ${field}: ${problem}`);
  }
}

export type Raw = Record<string, unknown>;

export function asObject(v: unknown, path: string): Raw {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(path, `expected an object, got ${describe(v)}`);
  return v as Raw;
}

/** Rejects keys the section does not know, so a typo is an error rather than a silently ignored setting. */
export function onlyKeys(o: Raw, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(join(path, k), `unknown setting (known: ${allowed.join(', ')})`);
  }
}

export function str(o: Raw, key: string, def: string, path: string, check?: (s: string) => string | null): string {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string') throw new ConfigError(join(path, key), `expected a string, got ${describe(v)}`);
  const problem = check?.(v);
  if (problem) throw new ConfigError(join(path, key), problem);
  return v;
}

export function optStr(o: Raw, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(join(path, key), `expected a string, got ${describe(v)}`);
  return v;
}

export function int(o: Raw, key: string, def: number, path: string, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new ConfigError(join(path, key), `expected an integer, got ${describe(v)}`);
  if (n < min || n > max) throw new ConfigError(join(path, key), `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function bool(o: Raw, key: string, def: boolean, path: string): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (typeof v !== 'boolean') throw new ConfigError(join(path, key), `expected true or false, got ${describe(v)}`);
  return v;
}

export function oneOf<T extends string>(o: Raw, key: string, def: T, allowed: readonly T[], path: string): T {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(join(path, key), `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

export function strList(o: Raw, key: string, def: string[], path: string): string[] {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new ConfigError(join(path, key), `expected a list of strings, got ${describe(v)}`);
  return v as string[];
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
