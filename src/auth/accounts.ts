// Standalone accounts: SCRAM keys (SHA-1 and SHA-256) per user in one atomic JSON document; never a password.
import { join } from 'node:path';
import { JsonDocument } from '../storage/json-document.js';
import type { AuthProvider, ScramCredentials, ScramHash } from './provider.js';
import { deriveCredentials, passwordMatches } from './scram-keys.js';

interface AccountRecord {
  'sha-1': ScramCredentials;
  'sha-256': ScramCredentials;
  created: string;
}
type AccountFile = Record<string, AccountRecord>;

export const USERNAME_RE = /^[a-z0-9._-]{1,64}$/;

export class AccountStore implements AuthProvider {
  private accounts: AccountFile = {};
  private doc: JsonDocument<AccountFile>;

  private constructor(dataDir: string) {
    this.doc = new JsonDocument(join(dataDir, 'accounts.json'));
  }

  static async open(dataDir: string): Promise<AccountStore> {
    const s = new AccountStore(dataDir);
    s.accounts = (await s.doc.read()) ?? {};
    return s;
  }

  userExists(username: string): boolean {
    return Object.hasOwn(this.accounts, username);
  }

  list(): string[] {
    return Object.keys(this.accounts).sort();
  }

  async setPassword(username: string, password: string): Promise<void> {
    if (!USERNAME_RE.test(username)) throw new Error(`invalid username "${username}": use 1-64 of a-z 0-9 . _ -`);
    if (password.length < 1) throw new Error('empty password');
    this.accounts[username] = {
      'sha-1': await deriveCredentials('sha-1', password),
      'sha-256': await deriveCredentials('sha-256', password),
      created: this.accounts[username]?.created ?? new Date().toISOString(),
    };
    await this.doc.save(this.accounts);
  }

  async remove(username: string): Promise<boolean> {
    if (!this.userExists(username)) return false;
    delete this.accounts[username];
    await this.doc.save(this.accounts);
    return true;
  }

  async checkPassword(username: string, password: string): Promise<boolean> {
    const a = this.accounts[username];
    if (!a) return false;
    return passwordMatches('sha-256', password, a['sha-256']);
  }

  async getScramCredentials(username: string, hash: ScramHash): Promise<ScramCredentials | null> {
    return this.accounts[username]?.[hash] ?? null;
  }

  flush(): Promise<void> {
    return this.doc.flush();
  }
}

/** Test mode (scansion transcripts): any password is accepted for any user. Never on by default. */
export const acceptAnyPassword: AuthProvider = {
  checkPassword: async (username) => username.length > 0,
  userExists: () => true,
};
