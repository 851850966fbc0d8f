// Opening an S2S stream over TCP: the targets (DNS, a static route, or a host:port the caller knows), then a
// connection to the first one that answers, plain (STARTTLS comes later) or direct TLS (XEP-0368).
import net from 'node:net';
import tls from 'node:tls';
import type { S2sContext } from './context.js';
import { ResolveError, type Target } from './resolve.js';
import { S2sStream } from './stream.js';
import { DialError, type S2sDialer } from './dialer.js';

export function tcpDialer(ctx: S2sContext, targets: (remote: string) => Promise<Target[]>): S2sDialer {
  return async (local, remote, track) => {
    let list: Target[];
    try {
      list = await targets(remote);
    } catch (err) {
      const timeout = err instanceof ResolveError && err.timeout;
      throw new DialError((err as Error).message, timeout ? 'timeout' : 'not-found');
    }
    const errors: string[] = [];
    for (const t of list) {
      try {
        const stream = await dialOne(ctx, local, remote, t, track);
        ctx.log.debug(
          `s2s out ${local} → ${remote}: connected to ${t.address}:${t.port}${t.directTls ? ' (direct TLS)' : ''}`,
        );
        return stream;
      } catch (err) {
        errors.push(`${t.address}:${t.port}: ${(err as Error).message}`);
      }
    }
    throw new DialError(`cannot connect (${errors.join('; ')})`, 'not-found');
  };
}

function dialOne(
  ctx: S2sContext,
  local: string,
  remote: string,
  t: Target,
  track: (cancel: () => void) => void,
): Promise<S2sStream> {
  return new Promise((resolve, reject) => {
    const opts = { maxStanzaSize: ctx.maxStanzaSize, maxSendBufferBytes: ctx.maxSendBufferBytes };
    if (t.directTls) {
      const s = tls.connect({
        ...ctx.clientTlsOptions(local, remote),
        host: t.address,
        port: t.port,
        ALPNProtocols: ['xmpp-server'],
      });
      track(() => s.destroy());
      s.once('secureConnect', () => {
        s.removeAllListeners('error');
        resolve(new S2sStream(s, opts, s));
      });
      s.once('error', reject);
    } else {
      const s = net.connect({ host: t.address, port: t.port });
      track(() => s.destroy());
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(new S2sStream(s, opts));
      });
      s.once('error', reject);
    }
  });
}
