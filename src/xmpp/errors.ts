// Stanza errors (RFC 6120 §8.3) and stream errors (RFC 6120 §4.9), built the same way everywhere.
import { cloneElement, Element, el } from './xml.js';
import { NS } from './namespaces.js';

export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

export type StanzaErrorCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'gone'
  | 'internal-server-error'
  | 'item-not-found'
  | 'jid-malformed'
  | 'not-acceptable'
  | 'not-allowed'
  | 'not-authorized'
  | 'policy-violation'
  | 'recipient-unavailable'
  | 'redirect'
  | 'registration-required'
  | 'remote-server-not-found'
  | 'remote-server-timeout'
  | 'resource-constraint'
  | 'service-unavailable'
  | 'subscription-required'
  | 'undefined-condition'
  | 'unexpected-request';

export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** The error type RFC 6120 §8.3.3 suggests for each condition. */
const DEFAULT_TYPE: Record<StanzaErrorCondition, ErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

/** Thrown by handlers to answer with a stanza error; the router turns it into the reply. */
export class StanzaError extends Error {
  readonly type: ErrorType;
  constructor(
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
    type?: ErrorType,
    readonly appCondition?: Element,
  ) {
    super(text ?? condition);
    this.type = type ?? DEFAULT_TYPE[condition];
  }
}

export function errorElement(
  condition: StanzaErrorCondition,
  text?: string,
  type?: ErrorType,
  by?: string,
  appCondition?: Element,
): Element {
  return el(
    'error',
    { type: type ?? DEFAULT_TYPE[condition], by },
    el(condition, { xmlns: NS.STANZAS_ERR }),
    text ? el('text', { xmlns: NS.STANZAS_ERR }, text) : undefined,
    appCondition,
  );
}

/**
 * The error reply to a stanza: addresses swapped, type="error", original payload kept for iq-less context.
 * Returns null for stanzas that must never be answered with an error (errors themselves).
 */
export function errorReply(stanza: Element, err: StanzaError | StanzaErrorCondition, text?: string): Element | null {
  if (stanza.attrs.type === 'error') return null;
  const e = typeof err === 'string' ? new StanzaError(err, text) : err;
  const reply = el(stanza.name, {
    xmlns: stanza.attrs.xmlns,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
    id: stanza.attrs.id,
    type: 'error',
  });
  if (stanza.name !== 'iq') {
    for (const c of stanza.children) if (typeof c !== 'string') reply.append(cloneElement(c));
  }
  reply.append(errorElement(e.condition, e.text, e.type, undefined, e.appCondition));
  return reply;
}

/** RFC 6120 §4.9.4: an application-specific condition may follow the defined one and the text. */
export function streamErrorElement(condition: StreamErrorCondition, text?: string, appCondition?: Element): Element {
  return el(
    'stream:error',
    { 'xmlns:stream': NS.STREAM },
    el(condition, { xmlns: NS.STREAMS_ERR }),
    text ? el('text', { xmlns: NS.STREAMS_ERR }, text) : undefined,
    appCondition,
  );
}

/** Thrown by stream-level code to end the stream with a stream error. */
export class StreamError extends Error {
  constructor(
    readonly condition: StreamErrorCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }
}
