// Loose typings for test-only client libraries that ship none.
declare module '@xmpp/client' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export const client: (opts: Record<string, unknown>) => any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export const xml: ((name: string, attrs?: Record<string, string | undefined>, ...children: any[]) => any) & Record<string, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export const jid: any;
}
declare module 'strophe.js';
