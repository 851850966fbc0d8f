// Making the self-signed certificate in a short-lived child process. node-forge is ~40 CommonJS modules: once
// imported they stay in the server's heap and code space for its whole life (measured ~2–4 MB of resident memory),
// although a certificate is made once per data folder. The child imports self-signed.ts's own generator (the
// compiled sibling of this file), prints the PEMs and exits; the server only parses them.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runNodeScript } from '../node-child.js';

const CHILD_TIMEOUT_MS = 60_000;

// ES module source for `node --input-type=module -e`: the generator's URL and its options as arguments.
const CHILD_SOURCE = `
process.title = 'xmpp-make-certificate';
const { generateSelfSigned } = await import(process.argv[1]);
process.stdout.end(JSON.stringify(await generateSelfSigned(JSON.parse(process.argv[2]))));
`;

/**
 * The compiled self-signed.js beside this file. There is none when running from source (a plain node child cannot
 * load .ts) or inside a bundle such as the PeerTube plugin's: then the caller makes the certificate itself.
 */
function generatorUrl(): string {
  const ext = /\.([cm]?js)$/.exec(fileURLToPath(import.meta.url))?.[1];
  const url = ext ? new URL(`./self-signed.${ext}`, import.meta.url) : undefined;
  if (!url || !existsSync(url)) throw new Error(`no compiled certificate generator beside ${import.meta.url}`);
  return url.href;
}

/** A fresh self-signed certificate for `names` (PEMs), made by a child node; rejects when the child fails. */
export function generateInChild(names: string[]): Promise<{ certPem: string; keyPem: string }> {
  let generator: string;
  try {
    generator = generatorUrl();
  } catch (e) {
    return Promise.reject(e as Error);
  }
  const pem = runNodeScript('certificate child', {
    args: ['--input-type=module', '-e', CHILD_SOURCE, generator, JSON.stringify({ names })],
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  return pem.then((out) => {
    const parsed = JSON.parse(out.toString('utf8')) as { certPem?: unknown; keyPem?: unknown };
    if (typeof parsed.certPem !== 'string' || typeof parsed.keyPem !== 'string')
      throw new Error('no PEMs in its output');
    return { certPem: parsed.certPem, keyPem: parsed.keyPem };
  });
}
