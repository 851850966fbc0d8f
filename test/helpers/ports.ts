// Free loopback TCP ports inside a range a test area owns, so parallel peers (Prosody, ejabberd) never collide.
import net from 'node:net';

/** Whether something could listen on 127.0.0.1:port right now. */
export function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `n` distinct free ports in [base, base+span): a random start, then every port of the range in turn. */
export async function pickFreePorts(n: number, base: number, span: number): Promise<number[]> {
  const out: number[] = [];
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span && out.length < n; i++) {
    const port = base + ((start + i) % span);
    if (await tcpPortFree(port)) out.push(port);
  }
  if (out.length < n) throw new Error(`no ${n} free ports in ${base}-${base + span - 1}`);
  return out;
}
