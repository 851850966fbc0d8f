// XEP-0198 on one c2s session: the <enable/>, <r/> and <a/> nonzas, and the accounting of outbound stanzas
// (ack requests, the bound on unacknowledged ones). Resumption itself — moving the session onto a new transport —
// stays with the session, which owns its transport.
import { el, type Element } from '../xml.js';
import { NS } from '../namespaces.js';
import { StreamManagement, type ResumptionRegistry, type Resumable } from '../stream-management.js';
import type { StreamManagementConfig } from '../../config.js';
import type { StreamErrorCondition } from '../errors.js';
import type { Prepared } from '../prepared.js';

/** The XEP-0198 stream feature, offered after authentication when stream management is on. */
export const streamManagementFeature = { name: 'sm', offer: () => el('sm', { xmlns: NS.SM }) };

/** How the module talks back through its session. */
export interface SmIo {
  /** Writes bytes to the transport, bypassing the counting (nonzas). */
  write(xml: string): void;
  fail(condition: StreamErrorCondition, text?: string, appCondition?: Element): void;
}

export class SessionSm {
  /** Set once the client enabled stream management. */
  state: StreamManagement | null = null;

  constructor(
    private readonly owner: Resumable,
    private readonly io: SmIo,
    private readonly cfg: StreamManagementConfig,
    private readonly resumption: ResumptionRegistry,
  ) {}

  get enabled(): boolean {
    return this.state !== null;
  }
  get resumable(): boolean {
    return this.state?.resumable ?? false;
  }

  /** An element in the SM namespace on an established stream. */
  handle(e: Element): void {
    const sm = this.state;
    if (e.name === 'enable') {
      if (sm || !this.cfg.enabled) {
        this.io.write(el('failed', { xmlns: NS.SM }, el('unexpected-request', { xmlns: NS.STANZAS_ERR })).toString());
        return;
      }
      const resumable = e.attrs.resume === 'true' || e.attrs.resume === '1';
      this.state = new StreamManagement(resumable, this.cfg.maxUnacked);
      if (resumable) this.resumption.add(this.owner);
      this.io.write(this.state.enabledElement(this.cfg.resumeTimeoutSeconds).toString());
    } else if (e.name === 'r') {
      if (sm) this.io.write(sm.ackText());
    } else if (e.name === 'a') {
      const h = Number(e.attrs.h);
      if (sm && !(Number.isInteger(h) && h >= 0 && sm.ack(h))) {
        // XEP-0198 §4: undefined-condition with <handled-count-too-high h= send-count=/> to say what went wrong.
        this.io.fail(
          'undefined-condition',
          `acknowledged ${e.attrs.h} stanzas, ${sm.sentTotal} were sent`,
          el('handled-count-too-high', { xmlns: NS.SM, h: e.attrs.h, 'send-count': sm.sentTotal }),
        );
      }
    }
  }

  /** A stanza from the client was handled (the `h` we report). */
  inbound(): void {
    this.state?.countInbound();
  }

  /**
   * Counts an outbound stanza. Returns 'overflow' when too many are unacknowledged (the caller closes the stream),
   * else whether an ack request should follow it.
   */
  outbound(stanza: string | Prepared): 'overflow' | 'ask' | 'ok' {
    const sm = this.state!;
    const wantAck = sm.sent(stanza);
    if (sm.overflowing) return 'overflow';
    return wantAck ? 'ask' : 'ok';
  }

  /** The session ends for good: it can no longer be resumed. */
  ended(): void {
    if (this.state) this.resumption.remove(this.owner);
  }
}
