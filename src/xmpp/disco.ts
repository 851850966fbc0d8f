// XEP-0030 service discovery for the server's own hosts. Modules add their features here instead of
// editing one big answer. Every viewer asks on login, so the answers are serialized once (PreSerializedElement)
// and rebuilt only after a module adds something.
import { cloneElement, Element, el } from './xml.js';
import { NS } from './namespaces.js';
import { PreSerializedElement } from './prepared.js';
import type { IqRegistry } from './iq-registry.js';
import { StanzaError } from './errors.js';

export interface Identity {
  category: string;
  type: string;
  name?: string;
}

/** A host kind: the account host, the anonymous host, or a service (component) host. */
export type HostKind = 'accounts' | 'anonymous';

export class DiscoRegistry {
  private features = new Map<HostKind, Set<string>>([
    ['accounts', new Set()],
    ['anonymous', new Set()],
  ]);
  private accountFeatures = new Set<string>();
  private identities: Identity[] = [{ category: 'server', type: 'im' }];
  private items: Array<{ jid: string; name?: string }> = [];
  private extensions: Element[] = [];
  /** Answers without a node, serialized once: 'info accounts', 'info anonymous', 'items', 'account'. */
  private prepared = new Map<string, PreSerializedElement>();

  private once(key: string, build: () => Element): Element {
    let e = this.prepared.get(key);
    if (!e) {
      e = PreSerializedElement.of(build().toString());
      this.prepared.set(key, e);
    }
    return e;
  }

  /** Adds a feature to the server's disco#info, on the given host kinds (both by default). */
  addFeature(feature: string, kinds: HostKind[] = ['accounts', 'anonymous']): void {
    for (const k of kinds) this.features.get(k)!.add(feature);
    this.prepared.clear();
  }

  /** A feature advertised on accounts' bare JIDs (e.g. MAM for users, not yet). */
  addAccountFeature(feature: string): void {
    this.accountFeatures.add(feature);
    this.prepared.clear();
  }

  addIdentity(identity: Identity): void {
    this.identities.push(identity);
    this.prepared.clear();
  }

  /** Items listed under the server (e.g. the MUC service). */
  addItem(jid: string, name?: string): void {
    this.items.push({ jid, name });
    this.prepared.clear();
  }

  /** XEP-0128 extended info forms (e.g. contact addresses). */
  addExtension(form: Element): void {
    this.extensions.push(form);
    this.prepared.clear();
  }

  /** The server's disco#info for a host kind; shared and serialized once when there is no node (do not mutate). */
  infoFor(kind: HostKind, node?: string): Element {
    return node ? this.buildInfo(kind, node) : this.once(`info ${kind}`, () => this.buildInfo(kind));
  }

  private buildInfo(kind: HostKind, node?: string): Element {
    const q = el('query', { xmlns: NS.DISCO_INFO, node });
    for (const i of this.identities) q.append(el('identity', { category: i.category, type: i.type, name: i.name }));
    for (const f of [...this.features.get(kind)!].sort()) q.append(el('feature', { var: f }));
    for (const x of this.extensions) q.append(cloneElement(x));
    return q;
  }

  itemsFor(kind: HostKind, node?: string): Element {
    return node ? this.buildItems(kind, node) : this.once('items', () => this.buildItems(kind));
  }

  private buildItems(_kind: HostKind, node?: string): Element {
    const q = el('query', { xmlns: NS.DISCO_ITEMS, node });
    if (!node) for (const i of this.items) q.append(el('item', { jid: i.jid, name: i.name }));
    return q;
  }

  accountInfo(): Element {
    return this.once('account', () => this.buildAccountInfo());
  }

  private buildAccountInfo(): Element {
    const q = el('query', { xmlns: NS.DISCO_INFO });
    q.append(el('identity', { category: 'account', type: 'registered' }));
    for (const f of [...this.accountFeatures].sort()) q.append(el('feature', { var: f }));
    return q;
  }

  /** Registers the disco iq handlers; `kindOf` maps a local domain to its host kind. */
  install(iq: IqRegistry, kindOf: (domain: string) => HostKind | undefined): void {
    this.addFeature(NS.DISCO_INFO);
    this.addFeature(NS.DISCO_ITEMS);
    iq.register('server', 'query', NS.DISCO_INFO, 'get', ({ iq: stanza, payload }) => {
      const kind = kindOf(stanza.attrs.to ?? '');
      if (!kind) throw new StanzaError('item-not-found');
      if (payload.attrs.node) throw new StanzaError('item-not-found');
      return this.infoFor(kind, payload.attrs.node);
    });
    iq.register('server', 'query', NS.DISCO_ITEMS, 'get', ({ iq: stanza, payload }) => {
      const kind = kindOf(stanza.attrs.to ?? '');
      if (!kind) throw new StanzaError('item-not-found');
      return this.itemsFor(kind, payload.attrs.node);
    });
    iq.register('account', 'query', NS.DISCO_INFO, 'get', ({ payload }) => {
      if (payload.attrs.node) throw new StanzaError('item-not-found');
      return this.accountInfo();
    });
    iq.register('account', 'query', NS.DISCO_ITEMS, 'get', () => el('query', { xmlns: NS.DISCO_ITEMS }));
  }
}
