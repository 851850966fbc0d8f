// The plugin as PeerTube's front end uses it: requests to its router's API, with the user's OAuth token when there
// is one, answered as JSON (or the raw text when the answer is not JSON); and its WebSocket route for XMPP clients,
// where a logged-in user signs in with the password api/auth hands out.
import { connectClient, type TestClient } from '../../helpers/xmpp-client.js';
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

/** The plugin's WebSocket route for XMPP clients (the one the chat page uses). */
export const wsService = (ctx: { host: PeerTubeHost }): string =>
  `${ctx.host.url.replace(/^http/, 'ws')}/plugins/livechat/ws/xmpp-websocket`;

/** `username` signed in over the plugin's WebSocket route with the password api/auth gives the holder of `token`. */
export async function loginWithToken(
  ctx: { host: PeerTubeHost },
  token: string,
  username: string,
): Promise<TestClient> {
  const r = await api(ctx, 'GET', '/api/auth', token);
  if (r.status !== 200) throw new Error(`api/auth for ${username}: ${r.status} ${JSON.stringify(r.json)}`);
  return connectClient({ service: wsService(ctx), domain: 'localhost', username, password: r.json.password });
}
