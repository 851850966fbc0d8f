// Parser for scansion scripts (.scs), the test format of Prosody's spec/scansion/.
//
// Shape of a file:
//   # comments (a first comment line is the title)
//   [Client] Romeo              a client definition; indented `key: value` lines follow
//   	jid: romeo@localhost
//   	password: password
//   -----                       dashes end the definitions
//   Romeo connects              actions, one per unindented line
//   Romeo sends:                followed by indented XML (kept as raw text: ${...}
//   	<presence/>              substitutions can only be resolved at run time)
//   Romeo receives: nothing
//   Romeo disconnects
//
// The XML text is stored unparsed; run.ts substitutes variables and parses it.

export interface ClientDef {
  name: string;
  /** The `jid:` property as written (may carry a resource). */
  jid: string;
  password: string;
  /** Resource to bind: the `resource:` property, else the JID's resource, else server-chosen. */
  resource?: string;
  /** Every property, including ones this tool does not use (connect_host, ...). */
  props: Record<string, string>;
  line: number;
}

export type Step =
  | { kind: 'connect'; client: string; line: number }
  | { kind: 'disconnect'; client: string; line: number }
  | { kind: 'send'; client: string; line: number; xml: string }
  | { kind: 'receive'; client: string; line: number; xml: string }
  | { kind: 'receive-nothing'; client: string; line: number };

export interface Script {
  title: string;
  clients: Map<string, ClientDef>;
  steps: Step[];
}

export class ScriptSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const isIndented = (l: string) => /^[ \t]/.test(l);
const isBlank = (l: string) => l.trim() === '';

export function parseScript(text: string): Script {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const clients = new Map<string, ClientDef>();
  const steps: Step[] = [];
  let title = '';
  let i = 0;

  while (i < lines.length) {
    const raw = lines[i];
    const lineNo = i + 1;
    if (isBlank(raw)) {
      i++;
      continue;
    }
    if (/^\s*#/.test(raw)) {
      if (!title) title = raw.replace(/^\s*#+\s*/, '').trim();
      i++;
      continue;
    }
    if (/^-{3,}\s*$/.test(raw)) {
      i++;
      continue;
    }
    if (isIndented(raw)) throw new ScriptSyntaxError(`indented line outside any block: ${raw.trim()}`, lineNo);

    const decl = /^\[(\w+)\]\s+(.+?)\s*$/.exec(raw);
    if (decl) {
      if (decl[1] !== 'Client') throw new ScriptSyntaxError(`unsupported object class [${decl[1]}]`, lineNo);
      const props: Record<string, string> = {};
      i++;
      while (i < lines.length && isIndented(lines[i]) && !isBlank(lines[i])) {
        const kv = /^\s*([\w-]+)\s*:\s*(.*?)\s*$/.exec(lines[i]);
        if (!kv) throw new ScriptSyntaxError(`bad client property: ${lines[i].trim()}`, i + 1);
        props[kv[1]] = kv[2];
        i++;
      }
      const name = decl[2];
      if (!props.jid) throw new ScriptSyntaxError(`client ${name} has no jid`, lineNo);
      const slash = props.jid.indexOf('/');
      clients.set(name, {
        name,
        jid: props.jid,
        password: props.password ?? '',
        resource: props.resource ?? (slash >= 0 ? props.jid.slice(slash + 1) : undefined),
        props,
        line: lineNo,
      });
      continue;
    }
    const simple = /^(.+?)\s+(connects|disconnects)\s*$/.exec(raw);
    if (simple) {
      const client = knownClient(clients, simple[1], lineNo);
      steps.push({ kind: simple[2] === 'connects' ? 'connect' : 'disconnect', client, line: lineNo });
      i++;
      continue;
    }
    const io = /^(.+?)\s+(sends|receives):\s*(\S.*?)?\s*$/.exec(raw);
    if (io) {
      const client = knownClient(clients, io[1], lineNo);
      const inline = io[3];
      i++;
      if (inline === 'nothing' && io[2] === 'receives') {
        steps.push({ kind: 'receive-nothing', client, line: lineNo });
        continue;
      }
      // The block is every following indented line; blank lines inside it are kept.
      const body: string[] = inline ? [inline] : [];
      while (i < lines.length && (isIndented(lines[i]) || (isBlank(lines[i]) && nextIndented(lines, i)))) {
        body.push(lines[i]);
        i++;
      }
      const xml = body.join('\n').trim();
      if (!xml) throw new ScriptSyntaxError(`${io[2]}: with no XML`, lineNo);
      steps.push({ kind: io[2] === 'sends' ? 'send' : 'receive', client, line: lineNo, xml });
      continue;
    }
    throw new ScriptSyntaxError(`unrecognised line: ${raw}`, lineNo);
  }
  return { title, clients, steps };
}

/** True when a blank line at `i` is followed (after more blanks) by an indented line. */
function nextIndented(lines: string[], i: number): boolean {
  let j = i;
  while (j < lines.length && isBlank(lines[j])) j++;
  return j < lines.length && isIndented(lines[j]);
}

function knownClient(clients: Map<string, ClientDef>, name: string, line: number): string {
  if (!clients.has(name)) throw new ScriptSyntaxError(`unknown client "${name}"`, line);
  return name;
}
