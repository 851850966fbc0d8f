// Offline messages for accounts (RFC 6121 §8.5.2.2.1 leaves storing to the server; clients expect it): chat and
// normal messages to an account with no available resource are kept, bounded, and delivered with XEP-0203 delay
// when a resource becomes available.
import { join } from 'node:path';
import { JsonDocument } from '../../storage/json-document.js';
import type { Router } from '../router.js';
import type { DiscoRegistry } from '../disco.js';
import { NS } from '../namespaces.js';
import { cloneElement, el, type Element } from '../xml.js';
import { parse } from 'ltx';
import type { Logger } from '../../log.js';

interface Stored {
  xml: string;
  stamp: string;
}

/** Per account; older messages go first when the box is full. */
const MAX_PER_ACCOUNT = 200;

export function installOffline(
  router: Router,
  disco: DiscoRegistry,
  opts: { dataDir: string; domain: string; log: Logger },
): { flush(): Promise<void> } {
  disco.addFeature('msgoffline', ['accounts']);
  const boxes = new Map<string, { doc: JsonDocument<Stored[]>; items: Stored[] | null }>();
  const box = (user: string) => {
    let b = boxes.get(user);
    if (!b) {
      b = {
        doc: new JsonDocument<Stored[]>(join(opts.dataDir, 'offline', `${encodeURIComponent(user)}.json`)),
        items: null,
      };
      boxes.set(user, b);
    }
    return b;
  };
  const load = async (user: string) => {
    const b = box(user);
    if (!b.items) b.items = (await b.doc.read()) ?? [];
    return b;
  };

  router.storeOffline = (stanza, bare) => {
    const [user, host] = bare.split('@');
    if (host !== opts.domain || !stanza.getChild('body')) return false; // chat states and receipts are not kept
    const copy = cloneElement(stanza);
    copy.append(
      el('delay', { xmlns: NS.DELAY, from: opts.domain, stamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }),
    );
    void load(user)
      .then((b) => {
        b.items!.push({ xml: copy.toString(), stamp: new Date().toISOString() });
        if (b.items!.length > MAX_PER_ACCOUNT) b.items!.splice(0, b.items!.length - MAX_PER_ACCOUNT);
        return b.doc.save(b.items!);
      })
      .catch((err) => opts.log.error(`offline store for ${bare} failed: ${(err as Error).message}`));
    return true;
  };

  router.observe('available', (session) => {
    if (session.anonymous) return;
    const user = session.jid.local;
    void load(user)
      .then(async (b) => {
        if (!b.items!.length) return;
        const items = b.items!.splice(0);
        for (const it of items) {
          const m: Element = parse(it.xml);
          m.attrs.to = session.fullJid;
          session.send(m);
        }
        await b.doc.save(b.items!);
      })
      .catch((err) => opts.log.error(`offline delivery for ${session.bareJid} failed: ${(err as Error).message}`));
  });

  return {
    flush: async () => {
      for (const b of boxes.values()) await b.doc.flush();
    },
  };
}
