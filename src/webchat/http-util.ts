// Small HTTP helpers for the chat page routes: conditional requests and body writing.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** RFC 9110 §13.1.2 If-None-Match with weak comparison; `base` is the identity-encoding ETag. */
export function ifNoneMatchHits(req: IncomingMessage, base: string): boolean {
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  if (inm.trim() === '*') return true;
  const want = base.replace(/^W\//, '').replace(/"$/, '');
  for (const raw of inm.split(',', 64)) {
    // Accept our own encoded variants ("tag-br", "tag-gz") as the same representation family.
    const t = raw
      .trim()
      .replace(/^W\//, '')
      .replace(/"$/, '')
      .replace(/-(br|gz)$/, '');
    if (t === want) return true;
  }
  return false;
}

export function etagFor(base: string, enc: 'br' | 'gzip' | 'identity'): string {
  if (enc === 'identity') return base;
  return base.replace(/"$/, enc === 'br' ? '-br"' : '-gz"');
}

export function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text + '\n', 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

export function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}
