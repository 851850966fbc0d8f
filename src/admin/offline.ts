// Admin verbs that work on the data folder when no server runs on it (as prosodyctl does for stored data): check
// the configuration and folders, show certificates, list and destroy persistent rooms. Each prints what it found
// and returns the exit status. With a server running, rooms and destroy go through its admin channel (src/control/).
import { access, constants, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { createServer } from '../index.js';
import { silentLogger, type Logger } from '../log.js';
import { validateCerts } from '../certs/config.js';
import { CertificateStore } from '../certs/store.js';
import { RoomStore } from '../muc/persistence.js';
import { FileArchive } from '../storage/archive.js';
import { validateArchive } from '../storage/config.js';
import { roomLocalpart } from '../control/room-name.js';

type Print = (line: string) => void;

/** Configuration (every module section), data folder writable, certificate folder readable. 0 when all is well. */
export async function check(config: ServerConfig, print: Print): Promise<number> {
  const problems: string[] = [];
  try {
    createServer(config, { logger: silentLogger }); // validates the module sections; starts nothing
    print(
      `ok   configuration (domain ${config.domain}, MUC ${config.mucHost}${config.anonymousHost ? `, anonymous ${config.anonymousHost}` : ''})`,
    );
  } catch (err) {
    problems.push(`configuration: ${(err as Error).message}`);
  }
  try {
    await mkdir(config.dataDir, { recursive: true });
    await access(config.dataDir, constants.R_OK | constants.W_OK);
    print(`ok   data folder ${config.dataDir} is writable`);
  } catch (err) {
    problems.push(`data folder ${config.dataDir}: ${(err as Error).message}`);
  }
  const folder = safe(() => validateCerts(config.modules.certs, 'certs').folder);
  if (folder) {
    try {
      if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
      await access(folder, constants.R_OK);
      print(`ok   certificate folder ${folder} is readable`);
    } catch (err) {
      problems.push(`certificate folder ${folder}: ${(err as Error).message}`);
    }
  }
  for (const p of problems) print(`FAIL ${p}`);
  return problems.length ? 1 : 0;
}

/** The certificate each served host would use (from certs.folder, or the self-signed one kept in the data folder). */
export async function certs(config: ServerConfig, print: Print, log: Logger = silentLogger): Promise<number> {
  const hosts = [config.domain, ...(config.anonymousHost ? [config.anonymousHost] : []), config.mucHost];
  const store = await CertificateStore.create({
    dataDir: config.dataDir,
    hosts,
    folder: validateCerts(config.modules.certs, 'certs').folder,
    log,
  });
  try {
    for (const host of hosts) {
      const c = store.infoFor(host);
      if (!c) {
        print(`${host}: no certificate`);
        continue;
      }
      print(
        `${host}: ${c.selfSigned ? 'self-signed' : 'issued'}, from ${c.source}, valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`,
      );
      print(`  names ${c.names.join(', ')}; SHA-256 ${c.fingerprint256}`);
    }
  } finally {
    store.close();
  }
  return 0;
}

/** Persistent rooms stored in the data folder. */
export async function rooms(config: ServerConfig, print: Print): Promise<number> {
  const stored = await new RoomStore(join(config.dataDir, 'muc'), silentLogger).loadAll();
  for (const r of stored.sort((a, b) => a.localpart.localeCompare(b.localpart))) {
    const owners = Object.entries(r.affiliations)
      .filter(([, a]) => a.affiliation === 'owner')
      .map(([j]) => j);
    print(
      `${r.localpart}@${config.mucHost}${r.config.name ? ` "${r.config.name}"` : ''}${owners.length ? ` owners: ${owners.join(', ')}` : ''}`,
    );
  }
  if (!stored.length) print('no persistent rooms');
  return 0;
}

/** Removes a persistent room and its archive from the data folder of a server that is not running. */
export async function destroyRoom(config: ServerConfig, name: string, print: Print): Promise<number> {
  const localpart = roomLocalpart(name, config.mucHost);
  const store = new RoomStore(join(config.dataDir, 'muc'), silentLogger);
  const found = (await store.loadAll()).some((r) => r.localpart === localpart);
  if (!found) {
    print(`no persistent room ${localpart}@${config.mucHost}`);
    return 1;
  }
  store.remove(localpart);
  await store.flush();
  const archive = new FileArchive(config.dataDir, validateArchive(config.modules.archive, 'archive'), {
    log: () => undefined,
  });
  await archive.init();
  await archive.deleteRoom(`${localpart}@${config.mucHost}`);
  await archive.close();
  print(`room ${localpart}@${config.mucHost} destroyed (configuration, affiliations and archive removed)`);
  return 0;
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
