// A request's path without its query, shared by the HTTP handlers that check whether a request is their own (the web
// chat's, which reads the query too, splits the URL once itself). Each request passes several of them (WebSocket,
// BOSH, avatars, metrics): split('?') made an array per check.
import type { IncomingMessage } from 'node:http';

export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
