// The local admin channel: a Unix socket in the data folder (mode 0600, so only the server's user can connect)
// through which the command-line admin verbs reach a running server, whose rooms and accounts live in memory
// and would overwrite edits made to the files behind its back. One JSON request line per connection, one JSON
// answer line back.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const ADMIN_SOCKET = 'admin.sock';
/** Longest socket path the kernel accepts (sun_path is 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH = 107;
const MAX_REQUEST_BYTES = 64 * 1024;

export interface AdminRequest {
  verb: string;
  args: string[];
  /** adduser / passwd: the new password (never logged). */
  password?: string;
}

export interface AdminReply {
  /** The exit status the command line should end with. */
  status: number;
  lines: string[];
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminReply>;

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, ADMIN_SOCKET);
}

export interface AdminChannel {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listens on <dataDir>/admin.sock. A socket file left by a server that died is replaced; one that answers belongs
 * to another running server on the same data folder, which is an error.
 */
export async function startAdminChannel(dataDir: string, handle: AdminHandler): Promise<AdminChannel> {
  const path = adminSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(
      `admin channel: socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes (use a shorter data folder)`,
    );
  }
  if (await answers(path)) throw new Error(`admin channel: another server is running on the data folder ${dataDir}`);
  await unlink(path).catch(() => undefined);
  const server = createServer((sock) => serve(sock, handle));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  return {
    path,
    close: () => closeServer(server),
  };
}

function serve(sock: Socket, handle: AdminHandler): void {
  let buf = '';
  let done = false;
  sock.setEncoding('utf8');
  sock.on('error', () => undefined);
  sock.on('data', (chunk: string) => {
    if (done) return;
    buf += chunk;
    if (buf.length > MAX_REQUEST_BYTES) {
      done = true;
      reply(sock, { status: 2, lines: ['request too large'] });
      return;
    }
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    done = true;
    let req: AdminRequest;
    try {
      req = parseRequest(buf.slice(0, nl));
    } catch (err) {
      reply(sock, { status: 2, lines: [(err as Error).message] });
      return;
    }
    handle(req).then(
      (r) => reply(sock, r),
      (err: unknown) => reply(sock, { status: 1, lines: [`error: ${(err as Error)?.message ?? String(err)}`] }),
    );
  });
}

function parseRequest(line: string): AdminRequest {
  const o = JSON.parse(line) as Partial<AdminRequest> | null;
  if (!o || typeof o.verb !== 'string' || !Array.isArray(o.args) || !o.args.every((a) => typeof a === 'string')) {
    throw new Error('bad request: expected {"verb": string, "args": string[]}');
  }
  if (o.password !== undefined && typeof o.password !== 'string')
    throw new Error('bad request: password must be a string');
  return { verb: o.verb, args: o.args, password: o.password };
}

function reply(sock: Socket, r: AdminReply): void {
  sock.end(JSON.stringify(r) + '\n');
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Whether something listens on the socket at `path` (false for no file or a file left by a dead server). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Sends one request to the server running on `dataDir`. Undefined when none runs there (no socket, or one left by
 * a server that died): the caller then edits the files itself.
 */
export function askRunningServer(
  dataDir: string,
  req: AdminRequest,
  timeoutMs = 30_000,
): Promise<AdminReply | undefined> {
  const path = adminSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let connected = false;
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the running server did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => {
      connected = true;
      s.write(JSON.stringify(req) + '\n');
    });
    s.on('data', (d: string) => {
      buf += d;
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(new Error(`admin channel ${path}: ${err.message}`, { cause: err }));
    });
    s.once('close', () => {
      clearTimeout(timer);
      if (!connected) return;
      try {
        const r = JSON.parse(buf.trim()) as AdminReply;
        if (typeof r.status !== 'number' || !Array.isArray(r.lines)) throw new Error('malformed answer');
        resolve(r);
      } catch (err) {
        reject(new Error(`admin channel ${path}: ${(err as Error).message}`, { cause: err }));
      }
    });
  });
}
