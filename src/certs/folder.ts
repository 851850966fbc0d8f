// Reads a folder of certificates in the layouts admins actually have:
//   <folder>/<name>.crt|.pem + <name>.key     (or one .pem holding both certificate and key)
//   <folder>/<domain>/fullchain.pem + privkey.pem          (Let's Encrypt tools, Prosody's cert import)
//   <folder>/live/<domain>/fullchain.pem + privkey.pem     (folder = /etc/letsencrypt)
//   <folder>/fullchain.pem + privkey.pem                   (folder = one Let's Encrypt live/<domain>)
// Which host a certificate serves comes from its own names (SAN/CN), never from the file name.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CertificateError,
  hasKeyBlock,
  loadPair,
  parsePair,
  readText,
  validityProblem,
  type LoadedCert,
} from './pair.js';

export interface FolderResult {
  certs: LoadedCert[];
  /** Files that could not be used; `file` names the culprit. */
  problems: CertificateError[];
  /** Usable but worth telling the admin (expired, a certificate without key…). */
  warnings: string[];
  /** Every directory looked into, so a watcher can follow them all. */
  dirs: string[];
}

const MAX_DIRS = 1000;

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    // A file we may not read still "exists": loading it then reports the permission problem by name.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

type Job = () => Promise<LoadedCert | null>;

export async function loadFolder(folder: string, now = new Date()): Promise<FolderResult> {
  const res: FolderResult = { certs: [], problems: [], warnings: [], dirs: [folder] };
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (err) {
    throw new CertificateError(
      folder,
      `cannot read certificate folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const jobs: Job[] = [];
  const leDir = (dir: string) => jobs.push(() => loadPair(join(dir, 'fullchain.pem'), join(dir, 'privkey.pem')));

  if (entries.includes('fullchain.pem')) leDir(folder);
  else jobs.push(...rootFileJobs(folder, entries, res));

  const subdirs: string[] = [];
  for (const e of entries) if (!e.startsWith('.')) subdirs.push(join(folder, e));
  if (entries.includes('live') && (await isDir(join(folder, 'live')))) {
    try {
      for (const e of await readdir(join(folder, 'live')))
        if (!e.startsWith('.')) subdirs.push(join(folder, 'live', e));
    } catch (err) {
      res.problems.push(
        new CertificateError(join(folder, 'live'), `cannot read folder (${(err as NodeJS.ErrnoException).code})`),
      );
    }
  }
  for (const d of subdirs.slice(0, MAX_DIRS)) {
    if (!(await isDir(d))) continue;
    res.dirs.push(d);
    if (await exists(join(d, 'fullchain.pem'))) leDir(d);
  }
  if (subdirs.length > MAX_DIRS)
    res.warnings.push(`certificate: ${folder}: only the first ${MAX_DIRS} sub-folders are read`);

  const settled = await Promise.allSettled(jobs.map((j) => j()));
  for (const s of settled) {
    if (s.status === 'rejected') {
      if (s.reason instanceof CertificateError) res.problems.push(s.reason);
      else throw s.reason;
    } else if (s.value) {
      res.certs.push(s.value);
      const w = validityProblem(s.value, now);
      if (w) res.warnings.push(w);
    }
  }
  return res;
}

/** Jobs for `<name>.crt|.pem` files at the top of the folder. */
function rootFileJobs(folder: string, entries: string[], res: FolderResult): Job[] {
  const set = new Set(entries);
  const jobs: Job[] = [];
  for (const e of entries) {
    const m = /^(.+)\.(crt|pem)$/.exec(e);
    if (!m) continue;
    const certFile = join(folder, e);
    const keyName = `${m[1]}.key`;
    if (set.has(keyName)) {
      jobs.push(() => loadPair(certFile, join(folder, keyName)));
      continue;
    }
    // No separate key: either a combined PEM, a lone key, or a certificate whose key is missing.
    jobs.push(async () => {
      const text = await readText(certFile);
      const hasCert = text.includes('-----BEGIN CERTIFICATE-----');
      if (hasCert && hasKeyBlock(text)) return parsePair(certFile, text, certFile, text);
      if (!hasCert && m[2] === 'crt')
        throw new CertificateError(certFile, 'not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)');
      if (hasCert)
        res.warnings.push(
          `certificate: ${certFile}: skipped, no private key (expected ${join(folder, keyName)} or a key block in the same file)`,
        );
      return null;
    });
  }
  return jobs;
}
