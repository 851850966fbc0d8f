// Content types for the files the chat page serves, and which of them are worth compressing.
import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wasm': 'application/wasm',
};

/** Extensions we are willing to serve at all; anything else under converse's dist/ stays private. */
export function contentTypeFor(name: string): string | undefined {
  return TYPES[extname(name).toLowerCase()];
}

/** Text-like formats shrink a lot; images, audio and woff fonts are already compressed. */
export function isCompressible(type: string): boolean {
  return /^(text\/|application\/(json|wasm)|image\/(svg\+xml|x-icon)|font\/ttf)/.test(type);
}
