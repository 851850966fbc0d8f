// Serializing stanzas for a client stream: top-level stanzas carry xmlns="jabber:client" (required by RFC 7395
// framing and harmless on TCP), without mutating elements that may be shared between recipients.
import { Element } from '../xml.js';
import { NS } from '../namespaces.js';

const STANZAS = new Set(['message', 'presence', 'iq']);

export function serializeForClient(el: Element): string {
  if (!STANZAS.has(el.name) || el.attrs.xmlns === NS.CLIENT) return el.toString();
  const copy = new Element(el.name, { ...el.attrs, xmlns: NS.CLIENT });
  copy.children = el.children;
  return copy.toString();
}

export function isStanza(el: Element): boolean {
  return STANZAS.has(el.name) && (el.attrs.xmlns === NS.CLIENT || el.attrs.xmlns === undefined);
}
