// Waiting in a test for something the server does in the background (a stock refilled, a file written).

/** Checks `ok` every `everyMs` until it holds; past `ms` it fails, naming `what` it waited for. */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms: number,
  everyMs: number,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
