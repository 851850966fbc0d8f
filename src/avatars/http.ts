// GET <httpPath>/<sha1>.png: an avatar's bytes by its XEP-0153 hash. The name is the content's hash, so the
// response never changes: cached for a year as immutable, with the hash as ETag for revalidation (304).
// Only hashes this server handed out are served; anything else is 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AvatarService } from './service.js';
import { requestPath } from '../http/request-path.js';

const HASH_FILE = /^([0-9a-f]{40})\.png$/;

export function avatarHttpHandler(service: AvatarService): (req: IncomingMessage, res: ServerResponse) => boolean {
  const prefix = `${service.config.httpPath}/`;
  return (req, res) => {
    const path = requestPath(req);
    if (!path.startsWith(prefix)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('method not allowed\n');
      return true;
    }
    const m = HASH_FILE.exec(path.slice(prefix.length));
    const avatar = m ? service.byHash(m[1]) : undefined;
    if (!avatar) {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-cache' });
      res.end('no such avatar\n');
      return true;
    }
    const etag = `"${avatar.hash}"`;
    const headers = {
      'cache-control': 'public, max-age=31536000, immutable',
      etag,
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    };
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-type': avatar.type, 'content-length': avatar.png.length });
    res.end(req.method === 'HEAD' ? undefined : avatar.png);
    return true;
  };
}
