// Content-Security-Policy of the chat page: our own origin for code and styles, nothing inline except
// style attributes (lit templates in ConverseJS set `style="..."`), and connections only to our XMPP
// endpoints. The page carries its settings in a non-executable JSON block, so no script nonce is needed.
import { createHash } from 'node:crypto';

export interface CspInput {
  /** Absolute ws(s):// or http(s):// endpoints the page connects to; relative ones are covered by 'self'. */
  connectUrls: string[];
  /** Who may frame the page: PeerTube embeds it in an iframe, OBS loads it directly. */
  frameAncestors: string;
}

/**
 * ConverseJS's build extracts all CSS into converse.min.css, but its style-loader runtime still inserts one
 * <style> per component whose text is empty or only a source-map comment for an empty map. Allowing exactly
 * those texts by hash keeps `style-src` free of 'unsafe-inline' and the console free of CSP errors.
 */
const EMPTY_STYLE_TEXTS = [
  '',
  '\n/*# sourceMappingURL=data:application/json;base64,' +
    Buffer.from(JSON.stringify({ version: 3, sources: [], names: [], mappings: '', sourceRoot: '' })).toString(
      'base64',
    ) +
    ' */',
];
const EMPTY_STYLE_HASHES = EMPTY_STYLE_TEXTS.map((t) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`);

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined; // relative: same origin
  }
}

export function buildCsp(i: CspInput): string {
  const connect = new Set<string>(["'self'"]);
  for (const u of i.connectUrls) {
    const o = originOf(u);
    if (o) connect.add(o);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src-elem 'self' ${EMPTY_STYLE_HASHES.join(' ')}`,
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "media-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    `frame-ancestors ${i.frameAncestors}`,
  ].join('; ');
}
