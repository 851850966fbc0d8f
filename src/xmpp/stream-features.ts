// Stream features contributed by the modules that own them (xmpp.js's stream-features shape): STARTTLS by the
// transport, SASL mechanisms by the SASL module, bind, session and stream management by theirs. The session core
// only asks the registry what to offer at each stage, so it never lists namespaces itself.
import type { Element } from './xml.js';

export interface StreamFeature<C> {
  /** Unique within a registry (for diagnostics and to catch a module installed twice). */
  readonly name: string;
  /** The element(s) to offer on this stream, or nothing. */
  offer(stream: C): Element | readonly Element[] | undefined;
}

export class StreamFeatures<C> {
  private readonly features: StreamFeature<C>[] = [];

  /** Adds a feature; features are offered in the order they were added. */
  add(feature: StreamFeature<C>): void {
    if (this.features.some((f) => f.name === feature.name))
      throw new Error(`stream feature ${feature.name} is registered twice`);
    this.features.push(feature);
  }

  names(): string[] {
    return this.features.map((f) => f.name);
  }

  /** The elements for a `<stream:features/>`, in registration order. */
  offer(stream: C): Element[] {
    const out: Element[] = [];
    for (const f of this.features) {
      const x = f.offer(stream);
      if (!x) continue;
      if (Array.isArray(x)) out.push(...(x as readonly Element[]));
      else out.push(x as Element);
    }
    return out;
  }
}
