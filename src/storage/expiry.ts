// Retention periods in the syntax livechat's "Room logs expiration" setting uses: `never`, a plain number of
// seconds (`60`), or a count with a unit: `d` day, `w` week, `m` month, `y` year. `h` (hour) is accepted too.
// Months and years are average Gregorian lengths, as Prosody's muc_log_expires_after uses.

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  h: 3600,
  d: 86400,
  w: 604800,
  m: 2629746,
  y: 31556952,
};

/** Milliseconds for an expiry string, `Infinity` for `never`, or null when the string is not valid. */
export function parseExpiry(s: string): number | null {
  const v = s.trim().toLowerCase();
  if (v === 'never' || v === '') return v === 'never' ? Infinity : null;
  const m = /^(\d+)\s*([shdwmy]?)$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n <= 0) return null;
  return n * UNIT_SECONDS[m[2] || 's'] * 1000;
}

/** The same, throwing with a readable message. */
export function expiryMs(s: string): number {
  const ms = parseExpiry(s);
  if (ms === null)
    throw new Error(`invalid expiry "${s}" (use never, a number of seconds, or e.g. 1h, 2d, 1w, 1m, 1y)`);
  return ms;
}
