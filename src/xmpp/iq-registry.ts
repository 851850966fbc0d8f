// IQ handlers registered per payload namespace by the module that owns them, so the session and router never
// grow a switch over namespaces (the xmpp.js middleware idea, server side).
import type { Element } from './xml.js';
import { firstChildElement } from './xml.js';
import type { LocalSession } from './session-types.js';
import { StanzaError } from './errors.js';

/** Who the iq is addressed to: the server itself, or an account's bare JID (answered on its behalf). */
export type IqTarget = 'server' | 'account';

export interface IqContext {
  iq: Element;
  payload: Element;
  /** The sending local session, when the iq came from one of our clients. */
  session?: LocalSession;
  /** For target 'account': the bare JID addressed. */
  to: string;
  from: string;
}

/** Returns the result payload (or nothing for an empty result), or throws StanzaError. */
export type IqHandler = (ctx: IqContext) => Element | void | Promise<Element | void>;

interface Entry {
  get?: IqHandler;
  set?: IqHandler;
}

export class IqRegistry {
  private handlers: Record<IqTarget, Map<string, Entry>> = { server: new Map(), account: new Map() };

  register(target: IqTarget, name: string, xmlns: string, type: 'get' | 'set', handler: IqHandler): void {
    const key = name + ' ' + xmlns;
    const entry = this.handlers[target].get(key) ?? {};
    if (entry[type]) throw new Error(`iq ${type} handler for ${key} (${target}) registered twice`);
    entry[type] = handler;
    this.handlers[target].set(key, entry);
  }

  /**
   * Handles an iq get/set and resolves to the result payload. An iq a user sends to their own bare JID is also
   * served by server handlers (RFC 6120 §10.3.3: no `to` means the account, handled by the server).
   */
  async handle(target: IqTarget, iq: Element, session?: LocalSession): Promise<Element | void> {
    const payload = firstChildElement(iq);
    const type = iq.attrs.type as 'get' | 'set';
    const key = payload ? payload.name + ' ' + (payload.attrs.xmlns ?? '') : '';
    let handler = payload ? this.handlers[target].get(key)?.[type] : undefined;
    if (!handler && payload && target === 'account' && session && session.bareJid === iq.attrs.to) {
      handler = this.handlers.server.get(key)?.[type];
    }
    if (!payload || !handler) {
      throw new StanzaError(payload ? 'service-unavailable' : 'bad-request');
    }
    return handler({ iq, payload, session, to: iq.attrs.to ?? '', from: iq.attrs.from ?? '' });
  }
}
