// A request's path without its query, shared by every HTTP handler that checks whether a request is its own. Each
// request passes several of them (WebSocket, BOSH, web chat, avatars, metrics): split('?') made an array per check.
import type { IncomingMessage } from 'node:http';

export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
