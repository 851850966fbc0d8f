// Logins of PeerTube users on the main XMPP domain, checked in-process (the server's AuthProvider, SASL PLAIN):
// - a temporary password handed out by api/auth, valid 24 h and renewed on every call;
// - long-term tokens (OBS docks), kept like livechat keeps them: tokens/<jid>.json with the user id and each
//   token's password encrypted (aes256, a random iv, "ivhex:cipherhex") under a key held in PeerTube's database.
import { createCipheriv, createDecipheriv, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthProvider } from '../../../src/index.js';

const TEMP_VALIDITY_MS = 24 * 3600 * 1000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface PeerTubeUserLike {
  id?: number;
  username?: string;
  blocked?: boolean;
}

export interface LivechatToken {
  id: number;
  jid: string;
  password: string;
  date: number;
  label: string;
  nickname?: string;
}

interface SavedTokens {
  userId: number;
  tokens: Array<{ id: number; date: number; encryptedPassword: string; label: string }>;
}

function generatePassword(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A PeerTube username as an XMPP localpart: lower case, and only what both allow (PeerTube allows [a-z0-9._]). */
export function normalizeUsername(user: PeerTubeUserLike | undefined): string | null {
  const name = user?.username?.toLowerCase();
  if (!name || !/^[a-z0-9._-]{1,64}$/.test(name)) return null;
  return name;
}

export interface UserAuthDeps {
  domain: string;
  dataDir: string;
  /** The 32-character key livechat stores as `livechat-prosody-auth-secretkey`. */
  secretKey: string;
  tokensEnabled: () => boolean;
  /** Whether the PeerTube user still exists and is not blocked (a revoked account's tokens stop working). */
  userIdValid: (userId: number) => Promise<boolean>;
}

export class UserAuth implements AuthProvider {
  private readonly temp = new Map<string, { password: string; validUntil: number }>();
  private readonly tokenCache = new Map<string, SavedTokens | null>();
  private readonly tokensDir: string;

  constructor(private readonly deps: UserAuthDeps) {
    this.tokensDir = join(deps.dataDir, 'tokens');
  }

  /** api/auth: the user's JID and a password valid for 24 h from now. */
  tempPassword(user: PeerTubeUserLike | undefined): { jid: string; password: string } | null {
    if (!user?.id || user.blocked) return null;
    const name = normalizeUsername(user);
    if (!name) return null;
    const validUntil = Date.now() + TEMP_VALIDITY_MS;
    let entry = this.liveTemp(name);
    if (entry) entry.validUntil = validUntil;
    else this.temp.set(name, (entry = { password: generatePassword(20), validUntil }));
    return { jid: `${name}@${this.deps.domain}`, password: entry.password };
  }

  private liveTemp(name: string) {
    const e = this.temp.get(name);
    if (e && e.validUntil < Date.now()) {
      this.temp.delete(name);
      return undefined;
    }
    return e;
  }

  async checkPassword(username: string, password: string): Promise<boolean> {
    const name = username.toLowerCase();
    const entry = this.liveTemp(name);
    if (entry && same(entry.password, password)) return true;
    if (!this.deps.tokensEnabled()) return false;
    const saved = await this.load(`${name}@${this.deps.domain}`);
    if (!saved || saved.tokens.length === 0) return false;
    if (!(await this.deps.userIdValid(saved.userId))) return false;
    for (const t of saved.tokens) {
      if (same(this.decrypt(t.encryptedPassword), password)) return true;
    }
    return false;
  }

  userExists(username: string): boolean {
    return !!this.liveTemp(username.toLowerCase());
  }

  async listTokens(user: PeerTubeUserLike | undefined): Promise<LivechatToken[] | null> {
    const jid = this.jidOf(user);
    if (!jid || !this.deps.tokensEnabled()) return null;
    const saved = await this.load(jid);
    if (!saved) return [];
    if (saved.userId !== user!.id) return null;
    return saved.tokens.map((t) => ({
      id: t.id,
      jid,
      password: this.decrypt(t.encryptedPassword),
      date: t.date,
      label: t.label,
    }));
  }

  async createToken(user: PeerTubeUserLike | undefined, label: string): Promise<LivechatToken | null> {
    const jid = this.jidOf(user);
    if (!jid || !this.deps.tokensEnabled()) return null;
    const saved = (await this.load(jid)) ?? { userId: user!.id!, tokens: [] };
    if (saved.userId !== user!.id) return null;
    let id = Date.now();
    while (saved.tokens.some((t) => t.id === id)) id++;
    const password = generatePassword(30);
    const token = { id, date: id, encryptedPassword: this.encrypt(password), label };
    await this.save(jid, { userId: saved.userId, tokens: [...saved.tokens, token] });
    return { id, jid, password, date: id, label };
  }

  async revokeToken(user: PeerTubeUserLike | undefined, id: number): Promise<boolean> {
    const jid = this.jidOf(user);
    if (!jid || !this.deps.tokensEnabled()) return false;
    const saved = await this.load(jid);
    if (!saved) return true;
    if (saved.userId !== user!.id) return false;
    await this.save(jid, { userId: saved.userId, tokens: saved.tokens.filter((t) => t.id !== id) });
    return true;
  }

  private jidOf(user: PeerTubeUserLike | undefined): string | null {
    if (!user?.id || user.blocked) return null;
    const name = normalizeUsername(user);
    return name ? `${name}@${this.deps.domain}` : null;
  }

  private path(jid: string): string {
    if (jid.includes('/') || jid.startsWith('.')) throw new Error(`invalid jid ${jid}`);
    return join(this.tokensDir, `${jid}.json`);
  }

  private async load(jid: string): Promise<SavedTokens | null> {
    if (this.tokenCache.has(jid)) return this.tokenCache.get(jid)!;
    let saved: SavedTokens | null = null;
    try {
      const json = JSON.parse(await readFile(this.path(jid), 'utf8')) as SavedTokens;
      if (typeof json?.userId === 'number' && Array.isArray(json.tokens)) saved = json;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.tokenCache.set(jid, saved);
    return saved;
  }

  private async save(jid: string, data: SavedTokens): Promise<void> {
    await mkdir(this.tokensDir, { recursive: true });
    const file = this.path(jid);
    await writeFile(`${file}.tmp`, JSON.stringify(data));
    await rename(`${file}.tmp`, file);
    this.tokenCache.set(jid, data);
  }

  private encrypt(data: string): string {
    const iv = randomBytes(16);
    const c = createCipheriv('aes256', this.deps.secretKey, iv);
    return `${iv.toString('hex')}:${c.update(data, 'utf8', 'hex')}${c.final('hex')}`;
  }

  private decrypt(data: string): string {
    const [ivHex, body] = data.split(':');
    const d = createDecipheriv('aes256', this.deps.secretKey, Buffer.from(ivHex, 'hex'));
    return d.update(body ?? '', 'hex', 'utf8') + d.final('utf8');
  }
}

/** A new 32-character key (livechat's format: 16 random bytes in hex). */
export function newSecretKey(): string {
  return randomBytes(16).toString('hex');
}
