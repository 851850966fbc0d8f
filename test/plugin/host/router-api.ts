// The plugin's HTTP API as the PeerTube front end calls it: a request to the plugin's router, with the user's
// OAuth token when there is one, answered as JSON (or the raw text when the answer is not JSON).
import type { PeerTubeHost } from './plugin-host.js';

export interface ApiAnswer {
  status: number;
  json: any; // each test reads the fields it expects
  headers: Headers;
}

export async function api(
  ctx: { host: PeerTubeHost },
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const res = await fetch(`${ctx.host.url}/plugins/livechat/router${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
