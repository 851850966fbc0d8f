// Loose typings for test-only client libraries that ship none.
declare module '@xmpp/client' {
  export const client: (opts: Record<string, unknown>) => any;
  export const xml: ((name: string, attrs?: Record<string, string | undefined>, ...children: any[]) => any) &
    Record<string, any>;
  export const jid: any;
}
declare module 'strophe.js';
