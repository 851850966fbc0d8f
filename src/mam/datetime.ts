// XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD = Z or ±hh:mm.

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or null when `s` is not an XEP-0082 DateTime. Sub-ms digits are dropped. */
export function parseDateTime(s: string): number | null {
  const m = DATETIME_RE.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, tz] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +sec > 60) return null;
  const ms = frac ? Math.floor(Number('0' + frac) * 1000) : 0;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, Math.min(+sec, 59), ms);
  if (new Date(t).getUTCDate() !== +d) return null; // 2021-02-30 and the like
  if (tz !== 'Z') {
    const sign = tz[0] === '+' ? 1 : -1;
    t -= sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
  }
  return t;
}

/** UTC DateTime; milliseconds only when not zero (so stamps stay usable as exact `start`/`end` bounds). */
export function formatDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.slice(0, 19) + 'Z' : iso;
}
