// A small leveled logger; the PeerTube plugin passes its own logger through the same interface.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, ...rest: unknown[]): void;
  warn(msg: string, ...rest: unknown[]): void;
  info(msg: string, ...rest: unknown[]): void;
  debug(msg: string, ...rest: unknown[]): void;
}

export function consoleLogger(level: LogLevel, prefix = 'xmpp'): Logger {
  const at = ORDER[level];
  const line = (l: LogLevel) => (msg: string, ...rest: unknown[]) => {
    if (ORDER[l] > at) return;
    const text = `${new Date().toISOString()} ${prefix} ${l}: ${msg}`;
    if (l === 'error' || l === 'warn') console.error(text, ...rest);
    else console.log(text, ...rest);
  };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
