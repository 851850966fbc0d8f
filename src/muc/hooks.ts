// A typed, prioritised hook bus shared by all rooms of a service: features subscribe once, events carry the room.
// A handler returning true stops the chain (Prosody's "event handled"); throwing a StanzaError rejects the action.

type Handler<E> = (ev: E) => boolean | void;

export class Hooks<M extends object> {
  private handlers = new Map<keyof M, Array<{ fn: Handler<never>; priority: number }>>();

  /** Higher priority runs first; equal priorities run in registration order. */
  on<K extends keyof M>(name: K, fn: Handler<M[K]>, priority = 0): void {
    const list = this.handlers.get(name) ?? [];
    list.push({ fn: fn as Handler<never>, priority });
    list.sort((a, b) => b.priority - a.priority);
    this.handlers.set(name, list);
  }

  /** Runs the handlers in order; returns true when one of them stopped the chain. */
  fire<K extends keyof M>(name: K, ev: M[K]): boolean {
    const list = this.handlers.get(name);
    if (!list) return false;
    for (const h of list) if ((h.fn as Handler<M[K]>)(ev) === true) return true;
    return false;
  }

  has<K extends keyof M>(name: K): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }
}
