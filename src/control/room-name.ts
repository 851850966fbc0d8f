/** The localpart an admin means by ROOM: `name` or `name@<MUC host>`, case-insensitive. */
export function roomLocalpart(name: string, mucHost: string): string {
  const suffix = `@${mucHost}`.toLowerCase();
  const lower = name.toLowerCase();
  return lower.endsWith(suffix) ? lower.slice(0, -suffix.length) : lower;
}
