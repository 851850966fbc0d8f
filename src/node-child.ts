// A short-lived child node running a small script and handing back what it printed: the server moves one-off heavy
// work there (making a certificate, brotli 11 of the web chat's script) so that neither its modules nor its memory
// stay in the server process. The child gets no NODE_OPTIONS (a loader, an inspector port): it needs node alone.
import { spawn, type ChildProcess } from 'node:child_process';

export interface NodeScript {
  /** Flags and the script: e.g. ['-e', source, ...its arguments]. */
  args: string[];
  /** Written to the child's standard input, which is then closed (closed at once without it). */
  input?: Buffer;
  /** Killed after this long (the run then fails). */
  timeoutMs: number;
  /** Told once the child is spawned (e.g. to lower its priority). */
  onSpawn?: (child: ChildProcess) => void;
}

/** The child's standard output once it exits with code 0 and has printed something; rejects otherwise. */
export function runNodeScript(what: string, script: NodeScript): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, script.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    script.onSpawn?.(child);
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), script.timeoutMs);
    timer.unref();
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = Buffer.concat(out);
      if (code === 0 && result.length > 0) resolve(result);
      else {
        const last = err.trim().split('\n').pop();
        reject(new Error(`${what} ended with ${signal ?? `code ${code}`}${last ? `: ${last}` : ''}`));
      }
    });
    child.stdin.on('error', () => {}); // a child that died early: 'close' reports it
    child.stdin.end(script.input);
  });
}
