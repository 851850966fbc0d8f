// A reader for the Lua data Prosody's internal storage writes (util.serialization): `return <table>;` in `.dat`
// files and `item(<table>);` per entry in `.list` files. Only literals are accepted — nil, booleans, numbers,
// strings, tables — so nothing in a data folder is ever run; anything else is a LuaSyntaxError with its offset.

/** A Lua table: positional values (1-based in Lua, 0-based here) and keyed fields. */
export class LuaTable {
  readonly array: LuaValue[] = [];
  readonly fields = new Map<string | number | boolean, LuaValue>();

  /** Field by key; integer keys also find positional values. */
  get(key: string | number): LuaValue {
    if (typeof key === 'number' && Number.isInteger(key) && key >= 1 && key <= this.array.length)
      return this.array[key - 1];
    return this.fields.get(key) ?? null;
  }

  /** The sequence part: positional values, then `[n] = v` entries continuing it. */
  list(): LuaValue[] {
    const out = [...this.array];
    while (this.fields.has(out.length + 1)) out.push(this.fields.get(out.length + 1)!);
    return out;
  }

  /** String-keyed fields. */
  entries(): Array<[string, LuaValue]> {
    return [...this.fields].filter((e): e is [string, LuaValue] => typeof e[0] === 'string');
  }
}

export type LuaValue = null | boolean | number | string | LuaTable;

export class LuaSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const MAX_DEPTH = 200;
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\s*(0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)/y;
const ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
  '"': 34,
  "'": 39,
  '\n': 10,
};

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  get done(): boolean {
    this.skip();
    return this.i >= this.s.length;
  }

  private fail(msg: string): never {
    throw new LuaSyntaxError(msg, this.i);
  }

  /** Skips blanks and comments (`-- line`, `--[[ block ]]`). */
  skip(): void {
    const s = this.s;
    for (;;) {
      while (this.i < s.length && isSpace(s.charCodeAt(this.i))) this.i++;
      if (s.charCodeAt(this.i) === 45 && s.charCodeAt(this.i + 1) === 45) {
        this.i += 2;
        const level = this.longOpen();
        if (level >= 0) this.longBody(level);
        else {
          const nl = s.indexOf('\n', this.i);
          this.i = nl < 0 ? s.length : nl + 1;
        }
        continue;
      }
      return;
    }
  }

  eat(token: string): boolean {
    this.skip();
    if (this.s.startsWith(token, this.i)) {
      this.i += token.length;
      return true;
    }
    return false;
  }

  expect(token: string): void {
    if (!this.eat(token)) this.fail(`expected '${token}'`);
  }

  /** A bare word (`return`, `item`, an identifier key). */
  word(): string | undefined {
    this.skip();
    WORD.lastIndex = this.i;
    const m = WORD.exec(this.s);
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  peekWord(): string | undefined {
    const at = this.i;
    const w = this.word();
    this.i = at;
    return w;
  }

  value(depth = 0): LuaValue {
    if (depth > MAX_DEPTH) this.fail('tables nested too deep');
    this.skip();
    const c = this.s[this.i];
    if (c === '{') return this.table(depth);
    if (c === '"' || c === "'") return this.quoted();
    if (c === '[' && (this.s[this.i + 1] === '[' || this.s[this.i + 1] === '=')) {
      const level = this.longOpen();
      if (level < 0) this.fail('malformed long string');
      return this.longBody(level);
    }
    if (c === '(') {
      this.i++;
      const v = this.value(depth + 1);
      this.expect(')');
      return v;
    }
    const w = this.peekWord();
    if (w === 'nil' || w === 'true' || w === 'false') {
      this.word();
      return w === 'nil' ? null : w === 'true';
    }
    if (w === 'math') {
      this.word();
      this.expect('.');
      if (this.word() !== 'huge') this.fail('only math.huge is accepted');
      return Infinity;
    }
    return this.number();
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('expected a value');
    this.i += m[0].length;
    const neg = m[0].startsWith('-');
    const body = m[1];
    let n: number;
    if (body === 'inf') n = Infinity;
    else if (body === 'nan') n = NaN;
    else if (/^0[xX]/.test(body)) n = parseInt(body, 16);
    else n = Number(body);
    // `1/0`, `-1/0`, `0/0`: how some serializers spell infinities and NaN.
    this.skip();
    if (this.s[this.i] === '/') {
      this.i++;
      this.skip();
      const d = /^\d+(?:\.\d*)?/.exec(this.s.slice(this.i, this.i + 32));
      if (!d) this.fail('expected a divisor');
      this.i += d[0].length;
      n = n / Number(d[0]);
    }
    return neg ? -n : n;
  }

  /** `[` `=`* `[` opening a long bracket: returns its level, or -1 (position unchanged) if there is none. */
  private longOpen(): number {
    const m = /^\[(=*)\[/.exec(this.s.slice(this.i, this.i + 64));
    if (!m) return -1;
    this.i += m[0].length;
    return m[1].length;
  }

  private longBody(level: number): string {
    const close = `]${'='.repeat(level)}]`;
    const end = this.s.indexOf(close, this.i);
    if (end < 0) this.fail('unterminated long bracket');
    let text = this.s.slice(this.i, end);
    if (text.startsWith('\r\n')) text = text.slice(2);
    else if (text.startsWith('\n')) text = text.slice(1);
    this.i = end + close.length;
    return text;
  }

  /**
   * A quoted string. Lua strings are bytes; Prosody writes non-ASCII as decimal escapes of the UTF-8 bytes
   * (`\195\169`), so each run of consecutive escapes is collected as bytes and decoded as UTF-8. Strings without
   * escapes (most of them) are a plain slice.
   */
  private quoted(): string {
    const s = this.s;
    const q = s.charCodeAt(this.i++);
    const parts: string[] = [];
    let bytes: number[] = [];
    const endBytes = () => {
      if (bytes.length) {
        parts.push(Buffer.from(bytes).toString('utf8'));
        bytes = [];
      }
    };
    let run = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === q) {
        if (run < this.i) {
          endBytes();
          parts.push(s.slice(run, this.i));
        }
        endBytes();
        this.i++;
        break;
      }
      if (c === 10) this.fail('newline in string');
      if (c !== 92) {
        this.i++;
        continue;
      }
      if (run < this.i) {
        endBytes();
        parts.push(s.slice(run, this.i));
      }
      const e = s[this.i + 1];
      this.i += 2;
      if (e === undefined) this.fail('unterminated string');
      if (e in ESCAPES) bytes.push(ESCAPES[e]);
      else if (e === '\r') {
        bytes.push(10);
        if (s[this.i] === '\n') this.i++;
      } else if (e >= '0' && e <= '9') {
        let v = e.charCodeAt(0) - 48;
        for (let k = 0; k < 2 && s.charCodeAt(this.i) >= 48 && s.charCodeAt(this.i) <= 57; k++)
          v = v * 10 + s.charCodeAt(this.i++) - 48;
        if (v > 255) this.fail('decimal escape too large');
        bytes.push(v);
      } else if (e === 'x') {
        const m = /^[0-9a-fA-F]{2}/.exec(s.slice(this.i, this.i + 2));
        if (!m) this.fail('malformed \\x escape');
        bytes.push(parseInt(m[0], 16));
        this.i += 2;
      } else if (e === 'z') {
        while (this.i < s.length && isSpace(s.charCodeAt(this.i))) this.i++;
      } else if (e === 'u') {
        const m = /^\{([0-9a-fA-F]{1,8})\}/.exec(s.slice(this.i, this.i + 11));
        if (!m) this.fail('malformed \\u escape');
        const cp = parseInt(m[1], 16);
        if (cp > 0x10ffff) this.fail('\\u escape out of range');
        for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
        this.i += m[0].length;
      } else this.fail(`unknown escape \\${e}`);
      run = this.i;
    }
    return parts.length === 1 ? parts[0] : parts.join('');
  }

  private table(depth: number): LuaTable {
    this.expect('{');
    const t = new LuaTable();
    for (;;) {
      if (this.eat('}')) return t;
      let key: string | number | boolean | undefined;
      this.skip();
      if (this.s[this.i] === '[' && this.s[this.i + 1] !== '[' && this.s[this.i + 1] !== '=') {
        this.i++;
        const k = this.value(depth + 1);
        this.expect(']');
        this.expect('=');
        if (k === null || k instanceof LuaTable || (typeof k === 'number' && Number.isNaN(k)))
          this.fail('unsupported table key');
        key = k;
      } else {
        const at = this.i;
        const w = this.word();
        if (w !== undefined && w !== 'nil' && w !== 'true' && w !== 'false' && this.eat('=')) key = w;
        else this.i = at;
      }
      const v = this.value(depth + 1);
      if (key === undefined) t.array.push(v);
      else if (v !== null) t.fields.set(key, v);
      if (!this.eat(',') && !this.eat(';')) {
        this.expect('}');
        return t;
      }
    }
  }
}

/** Parses a `.dat` file: `return <value>` (a trailing `;` allowed). */
export function parseLuaReturn(text: string): LuaValue {
  const r = new Reader(text.replace(/^#![^\n]*\n/, ''));
  if (r.word() !== 'return') throw new LuaSyntaxError("expected 'return'", 0);
  const v = r.value();
  r.eat(';');
  if (!r.done) throw new LuaSyntaxError('unexpected text after the value', text.length);
  return v;
}

/** Parses a `.list` file: a sequence of `item(<value>);` calls, in file order. */
export function parseLuaItems(text: string, fn = 'item'): LuaValue[] {
  const r = new Reader(text);
  const out: LuaValue[] = [];
  while (!r.done) {
    if (r.word() !== fn) throw new LuaSyntaxError(`expected '${fn}('`, 0);
    r.expect('(');
    out.push(r.value());
    r.expect(')');
    r.eat(';');
  }
  return out;
}
