// A small leveled logger; the PeerTube plugin passes its own logger through the same interface.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, ...rest: unknown[]): void;
  warn(msg: string, ...rest: unknown[]): void;
  info(msg: string, ...rest: unknown[]): void;
  debug(msg: string, ...rest: unknown[]): void;
}

export type LogFormat = 'text' | 'json';

/** Extra arguments as JSON-safe values (errors keep their message and stack). */
function plain(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
  return v;
}

/**
 * Logs to stdout (info, debug) and stderr (warn, error). `json`: one object per line — time, level, logger, msg
 * and any extra arguments as `args` — for log collectors that parse lines.
 */
export function consoleLogger(level: LogLevel, prefix = 'xmpp', format: LogFormat = 'text'): Logger {
  const at = ORDER[level];
  const line =
    (l: LogLevel) =>
    (msg: string, ...rest: unknown[]) => {
      if (ORDER[l] > at) return;
      const write = l === 'error' || l === 'warn' ? console.error : console.log;
      if (format === 'json') {
        const rec: Record<string, unknown> = { time: new Date().toISOString(), level: l, logger: prefix, msg };
        if (rest.length) rec.args = rest.map(plain);
        let text: string;
        try {
          text = JSON.stringify(rec);
        } catch {
          text = JSON.stringify({ ...rec, args: rest.map((r) => String(r)) }); // circular or BigInt arguments
        }
        write(text);
        return;
      }
      write(`${new Date().toISOString()} ${prefix} ${l}: ${msg}`, ...rest);
    };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
