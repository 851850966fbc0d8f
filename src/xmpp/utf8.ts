// Streams are UTF-8 (RFC 6120 §11.6). Invalid bytes are refused rather than turned into U+FFFD: XML 1.0 §4.3.3
// makes an encoding error fatal, and a replaced character would be a different message than the one sent.
import { StreamError } from './errors.js';

/** A decoder for one stream; a character split across two chunks waits for its second half. */
export class Utf8StreamDecoder {
  private decoder = new TextDecoder('utf-8', { fatal: true });

  /** Throws StreamError not-well-formed on bytes that are not UTF-8. */
  write(chunk: Uint8Array): string {
    try {
      return this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new StreamError('not-well-formed', 'the stream is not valid UTF-8');
    }
  }
}
