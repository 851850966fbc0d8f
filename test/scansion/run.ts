// Replays one scansion script against a running server and reports the first failing step.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse as parseXml, type Element } from 'ltx';
import { XmppClient, TimeoutError, type Endpoint } from './client.js';
import { matchStanza, pretty, type Captures, type MatchOptions } from './match.js';
import { parseScript, type ClientDef, type Script, type Step } from './parse.js';
import type { StepWaiver } from './waivers.js';

export interface RunOptions {
  endpoint: Endpoint;
  /** How long a `receives:` waits for its stanza (and connect/disconnect for the server). */
  timeoutMs?: number;
  /** How long `receives: nothing` listens. */
  nothingMs?: number;
  /**
   * Pause after a `sends:` when the next step is another client's send/connect/disconnect. The
   * scripts assume the server handled the first stanza before the second arrives on a different
   * connection; nothing orders two connections, so give the server a moment (default 100 ms).
   */
  settleMs?: number;
  /** Step-level waivers that apply to this file (see waivers.ts). */
  waivers?: StepWaiver[];
  /** Expected elements to disregard in every receive of this file (see waivers.ts). */
  ignoreExpected?: MatchOptions['ignoreExpected'];
  log?: (line: string) => void;
}

export interface StepResult {
  line: number;
  kind: Step['kind'];
  client: string;
  ok: boolean;
  /** Set when the step did not match but a waiver covers it. */
  waived?: string;
  detail?: string;
}

export interface RunResult {
  file: string;
  title: string;
  passed: boolean;
  steps: StepResult[];
  /** First failing step, as "line N (Client receives): reason". */
  failure?: string;
  /** Stanzas a client received that the script does not list (skipped by a later receives:). */
  unlisted: UnlistedStanza[];
}

export interface UnlistedStanza {
  /** The receives: step that skipped it. */
  line: number;
  client: string;
  stanza: string;
}

/** A receives: step gives up after this many non-matching stanzas (bounds a flooding server). */
const MAX_SKIPPED = 200;

export async function runScript(file: string, opts: RunOptions): Promise<RunResult> {
  const text = await readFile(file, 'utf8');
  return runParsed(basename(file), parseScript(text), opts);
}

export async function runParsed(file: string, script: Script, opts: RunOptions): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const nothingMs = opts.nothingMs ?? 500;
  const settleMs = opts.settleMs ?? 100;
  const log = opts.log ?? (() => {});
  const clients = new Map<string, XmppClient>();
  const captures: Captures = new Map();
  const results: StepResult[] = [];
  const unlisted: UnlistedStanza[] = [];
  const result: RunResult = { file, title: script.title, passed: false, steps: results, unlisted };

  // ${Romeo's JID} (bare, from the script), ${Romeo's full JID} (as bound), and ${capture}.
  const substitute = (xml: string, line: number): string =>
    xml.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
      const m = /^(.+)'s (full JID|JID)$/.exec(key);
      if (m) {
        const def = script.clients.get(m[1]);
        if (!def) throw new Error(`line ${line}: \${${key}}: no client named "${m[1]}"`);
        if (m[2] === 'JID') return def.jid.split('/')[0];
        const c = clients.get(m[1]);
        if (!c?.fullJid) throw new Error(`line ${line}: \${${key}}: ${m[1]} has not connected`);
        return c.fullJid;
      }
      const cap = captures.get(key);
      if (cap === undefined) throw new Error(`line ${line}: unknown variable \${${key}}`);
      return cap;
    });

  try {
    for (const [i, step] of script.steps.entries()) {
      const next = script.steps[i + 1];
      const def = script.clients.get(step.client) as ClientDef;
      const r: StepResult = { line: step.line, kind: step.kind, client: step.client, ok: false };
      results.push(r);
      const waiver = waiverFor(step);
      try {
        await runStep(step, def);
        r.ok = true;
        if (
          step.kind === 'send' &&
          next &&
          next.client !== step.client &&
          next.kind !== 'receive' &&
          next.kind !== 'receive-nothing'
        ) {
          await new Promise((resolve) => setTimeout(resolve, settleMs));
        }
      } catch (err) {
        r.detail = (err as Error).message;
        if (waiver && step.kind === 'receive') {
          r.waived = waiver.reason;
          log(`  line ${step.line}: waived (${waiver.reason}): ${firstLine(r.detail)}`);
          continue;
        }
        result.failure = `line ${step.line} (${step.client} ${verb(step)}): ${r.detail}`;
        return result;
      }
    }
    result.passed = true;
    return result;
  } finally {
    for (const c of clients.values()) c.destroy();
  }

  async function runStep(step: Step, def: ClientDef): Promise<void> {
    switch (step.kind) {
      case 'connect': {
        const old = clients.get(step.client);
        if (old && !old.isClosed) throw new Error(`${step.client} is already connected`);
        const c = new XmppClient({ jid: def.jid, password: def.password, resource: def.resource }, opts.endpoint);
        clients.set(step.client, c);
        await c.connect(timeoutMs);
        log(`  ${step.client} connected as ${c.fullJid}`);
        return;
      }
      case 'disconnect':
        await connected(step.client).disconnect(timeoutMs);
        return;
      case 'send': {
        const c = connected(step.client, true);
        if (c.isClosed) {
          // muc_outcast_reason.scs sends after "disconnects"; scansion lets that pass silently.
          log(`  line ${step.line}: ${step.client} is disconnected, stanza not sent`);
          return;
        }
        for (const stanza of parseBlock(substitute(step.xml, step.line))) c.send(stanza);
        return;
      }
      case 'receive': {
        const c = connected(step.client, true);
        const expected = parseBlock(substitute(step.xml, step.line));
        const mismatch = await receiveAll(c, expected, step, Boolean(waiverFor(step)));
        if (mismatch) throw new Error(mismatch);
        return;
      }
      case 'receive-nothing': {
        const c = connected(step.client, true);
        const got = await c.pollNothing(nothingMs);
        if (got) throw new Error(`expected nothing, received:\n${pretty(got, '    ')}`);
        return;
      }
    }
  }

  /**
   * Consumes this client's stanzas until the expected one(s) arrived. The expected stanzas must
   * form an ordered subsequence of what the client receives: a stanza the script does not list
   * (Prosody's own transcripts leave out e.g. status-104 notices and other resources' presence)
   * is skipped and reported, as scansion tolerates it; one listed later cannot be matched after
   * being skipped. If a block lists several stanzas, they may arrive in any order.
   */
  async function receiveAll(
    c: XmppClient,
    expected: Element[],
    step: Step,
    waived: boolean,
  ): Promise<string | undefined> {
    const left = [...expected];
    const skipped: Array<{ got: Element; reason: string }> = [];
    const deadline = Date.now() + timeoutMs;
    while (left.length) {
      let got: Element;
      try {
        got = await c.nextFrame(Math.max(1, deadline - Date.now()));
      } catch (err) {
        const why = err instanceof TimeoutError ? `timed out after ${timeoutMs} ms` : (err as Error).message;
        const near = skipped.length
          ? `\n  skipped (did not match):\n${skipped.map((s) => `    - ${s.reason}\n${pretty(s.got, '      ')}`).join('\n')}`
          : '';
        throw new Error(
          `${why}${skipped.length ? `; nearest: ${skipped[0].reason}` : ''}\n  expected:\n${left.map((e) => pretty(e, '    ')).join('\n')}${near}`,
          { cause: err },
        );
      }
      const reasons: string[] = [];
      const idx = left.findIndex((e) => {
        const m = matchStanza(e, got, captures, { ignoreExpected: opts.ignoreExpected });
        if (m.ok) {
          for (const [k, v] of m.captures) captures.set(k, v);
          return true;
        }
        reasons.push(m.reason);
        return false;
      });
      if (idx < 0 && waived) {
        // A waived step takes the next stanza as its answer, matching or not, and reports why.
        return `${reasons[0]}\n  expected:\n${left.map((e) => pretty(e, '    ')).join('\n')}\n  received:\n${pretty(got, '    ')}`;
      }
      if (idx < 0) {
        skipped.push({ got, reason: reasons[0] });
        if (skipped.length > MAX_SKIPPED)
          throw new Error(
            `more than ${MAX_SKIPPED} stanzas skipped waiting for:\n${left.map((e) => pretty(e, '    ')).join('\n')}`,
          );
        continue;
      }
      left.splice(idx, 1);
    }
    for (const s of skipped) {
      unlisted.push({ line: step.line, client: step.client, stanza: s.got.toString() });
      log(`  line ${step.line}: ${step.client} skipped an unlisted stanza: ${s.got.toString()}`);
    }
    return undefined;
  }

  function waiverFor(step: Step): StepWaiver | undefined {
    return opts.waivers?.find((w) => w.line === step.line);
  }

  function connected(name: string, allowClosed = false): XmppClient {
    const c = clients.get(name);
    if (!c) throw new Error(`${name} has not connected`);
    if (c.isClosed && !allowClosed) throw new Error(`${name} is disconnected`);
    return c;
  }
}

/** Parses the XML of a sends:/receives: block into its top-level elements. */
function parseBlock(xml: string): Element[] {
  const root = parseXml(`<scansion-block>${xml}</scansion-block>`);
  const out: Element[] = [];
  for (const child of root.children) {
    if (typeof child === 'string') {
      if (child.trim()) throw new Error(`stray text in XML block: ${child.trim()}`);
      continue;
    }
    child.parent = null;
    stripWhitespace(child);
    out.push(child);
  }
  return out;
}

/** Indentation in the script is not content: drop whitespace-only text between elements. */
function stripWhitespace(e: Element): void {
  const hasElements = e.children.some((c) => typeof c !== 'string');
  if (hasElements) e.children = e.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
  for (const c of e.children) if (typeof c !== 'string') stripWhitespace(c);
}

function verb(step: Step): string {
  switch (step.kind) {
    case 'connect':
      return 'connects';
    case 'disconnect':
      return 'disconnects';
    case 'send':
      return 'sends';
    case 'receive':
      return 'receives';
    case 'receive-nothing':
      return 'receives nothing';
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
