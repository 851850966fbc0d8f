// The CommonJS file PeerTube require()s (package.json "library"). The chat server and the plugin are ES modules,
// loaded with import() on register: PeerTube awaits register(), and Node lets CommonJS import ES modules this way.
type PluginModule = { register(o: unknown): Promise<void>; unregister(): Promise<void> };

let loaded: Promise<PluginModule> | null = null;
const load = (): Promise<PluginModule> => (loaded ??= import('./lib/plugin.js') as unknown as Promise<PluginModule>);

export async function register(options: unknown): Promise<void> {
  await (await load()).register(options);
}

export async function unregister(): Promise<void> {
  await (await load()).unregister();
}
