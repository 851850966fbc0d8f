// XEP-0054 vcard-temp: anyone may read an account's vCard, only its owner may write it. Accounts' vCards are kept
// in the data folder; anonymous viewers' only in memory, for as long as the server runs.
import { join } from 'node:path';
import { parse } from 'ltx';
import { LRUCache } from 'lru-cache';
import { boundedLru } from '../../bounded-lru.js';
import { JsonDocument } from '../../storage/json-document.js';
import type { IqRegistry } from '../iq-registry.js';
import type { DiscoRegistry } from '../disco.js';
import { NS } from '../namespaces.js';
import { el, type Element } from '../xml.js';
import { StanzaError } from '../errors.js';

const MAX_VCARD_BYTES = 128 * 1024;

export interface VcardOptions {
  dataDir: string;
  domain: string;
  /** The vCard of an account that has none stored (anonymous viewers get their computed avatar). */
  fallback?: (bareJid: string) => Element | undefined;
}

export function installVcard(iq: IqRegistry, disco: DiscoRegistry, opts: VcardOptions): { flush(): Promise<void> } {
  disco.addFeature(NS.VCARD);
  disco.addAccountFeature(NS.VCARD);
  const docs = new Map<string, JsonDocument<{ xml: string }>>();
  const cache = boundedLru<string, string>(5000); // bare JID → serialized vCard ('' = none)
  // Bounded in bytes, each entry counting its own overhead too (so at most ~670,000 of them), without a `max` that
  // would allocate tables for all of them up front.
  const ephemeral = new LRUCache<string, string>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (v) => v.length + 100,
  });

  const docFor = (user: string) => {
    let d = docs.get(user);
    if (!d) docs.set(user, (d = new JsonDocument(join(opts.dataDir, 'vcards', `${encodeURIComponent(user)}.json`))));
    return d;
  };
  const persistent = (bare: string) => bare.endsWith(`@${opts.domain}`);

  async function read(bare: string): Promise<string> {
    if (!persistent(bare)) return ephemeral.get(bare) ?? '';
    const hit = cache.get(bare);
    if (hit !== undefined) return hit;
    const stored = (await docFor(bare.split('@')[0]).read())?.xml ?? '';
    cache.set(bare, stored);
    return stored;
  }

  iq.register('account', 'vCard', NS.VCARD, 'get', async ({ to }) => {
    const xml = await read(to);
    if (xml) return parse(xml);
    return opts.fallback?.(to) ?? el('vCard', { xmlns: NS.VCARD });
  });

  iq.register('account', 'vCard', NS.VCARD, 'set', async ({ to, session, payload }) => {
    if (!session || session.bareJid !== to) throw new StanzaError('forbidden', 'only the owner may change a vCard');
    const copy: Element = parse(payload.toString());
    copy.attrs = { xmlns: NS.VCARD };
    const xml = copy.toString();
    if (Buffer.byteLength(xml) > MAX_VCARD_BYTES)
      throw new StanzaError('not-acceptable', `vCard larger than ${MAX_VCARD_BYTES} bytes`);
    if (persistent(to)) {
      cache.set(to, xml);
      await docFor(to.split('@')[0]).save({ xml });
    } else {
      ephemeral.set(to, xml);
    }
  });

  return {
    flush: async () => {
      for (const d of docs.values()) await d.flush();
    },
  };
}
