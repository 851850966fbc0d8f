// This process's child processes, found through /proc (Linux), for tests about what the server runs beside itself.
import { readFileSync, readdirSync } from 'node:fs';

/** PIDs of this process's children whose command line contains `marker`. */
export function childrenWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) out.push(Number(name));
    } catch {
      // the process ended while being read
    }
  }
  return out;
}

/** The web chat's compression child carries this in its command line (its source, then its process title). */
export const COMPRESSION_CHILD = 'xmpp-webchat-compress';
