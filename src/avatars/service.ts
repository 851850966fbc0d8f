// Avatars for occupants and anonymous viewers: computed from a seed (nick or occupant-id) out of the drawn parts,
// or supplied by the embedding application for its own users (PeerTube account avatars). Each avatar is a ≤ 1.5 KB
// PNG with its SHA-1 (the XEP-0153 photo hash) and its vCard (XEP-0054), serialized once and reused for every
// answer. Computed avatars are made on first use and kept in an LRU; nothing is generated at start-up except the
// parts' masks.
import { digest } from '../digest.js';
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../bounded-lru.js';
import { PreparedStanza, PreSerializedElement } from '../xmpp/prepared.js';
import { el } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import type { Logger } from '../log.js';
import { BOT, SETS, partsOf, type AvatarSet } from './art.js';
import { designFor, renderDesign, type Design, type Masks } from './compose.js';
import { loadMasks } from './masks.js';
import { Limiter } from './limit.js';
import type { AvatarsConfig } from './config.js';

export const MAX_AVATAR_BYTES = 1536;

/** An avatar drawn for a seed not yet in use, with its design's key (AvatarService.drawAhead). */
export interface DrawnAvatar {
  key: string;
  avatar: Avatar;
}
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

export interface Avatar {
  /** SHA-1 of the PNG, lower-case hex: the XEP-0153 photo hash and the HTTP file name. */
  readonly hash: string;
  readonly png: Buffer;
  readonly type: 'image/png';
  /** `<vCard xmlns="vcard-temp"><PHOTO>…</PHOTO></vCard>`, serialized once while in demand. */
  readonly vcard: PreSerializedElement;
}

/**
 * vCards of the avatars recently asked for. An avatar is kept for every occupant (its hash is in every presence),
 * but its vCard (the PNG once more, in base64, plus its parsed tree: ~1.5 KB) only matters to clients that fetch it,
 * so vCards are made on demand and only the recent ones kept.
 */
const vcards = boundedLru<string, PreSerializedElement>(2000);
/**
 * Computed avatars whose bytes are kept, the ones last asked for by vCard or HTTP (the rest keep only their hash;
 * an evicted one is drawn again in ~0.25 ms). As many as the vCards above: in a storm every viewer asks for the
 * vCards of the same few hundred visible occupants in turn, and an LRU smaller than that list would evict each one
 * just before it is asked for again (a redraw per request). The caches grow only with use, so idle viewers pay
 * nothing for the headroom.
 */
const PNG_CACHE_MAX = 2000;
/**
 * Avatars drawn for a presence's hash, kept a little while for the vCard requests that follow a join (in a storm,
 * every viewer who sees the new occupant asks for its picture within the next second): the hash is the SHA-1 of the
 * PNG, so drawing it once serves both. A fixed few (~0.7 KB each), not one per occupant: an idle occupant whose
 * picture nobody asks for is pushed out by later joins and keeps only its hash, as before.
 */
const FRESH_MAX = 256;

class AvatarBytes implements Avatar {
  readonly type = 'image/png' as const;
  constructor(
    readonly hash: string,
    readonly png: Buffer,
  ) {}

  get vcard(): PreSerializedElement {
    let v = vcards.get(this.hash);
    if (!v) {
      // Built as a tree and serialized once, rather than written as text and parsed back (ltx's parser was a fifth of
      // an anonymous viewer's own vCard request).
      const photo = el('PHOTO', {}, el('TYPE', {}, 'image/png'), el('BINVAL', {}, this.png.toString('base64')));
      v = PreSerializedElement.wrap(el('vCard', { xmlns: NS.VCARD }, photo));
      vcards.set(this.hash, v);
    }
    return v;
  }
}

/**
 * Supplies the avatar of one of the application's users (bare JID on the main domain): image bytes, an http(s)
 * URL to fetch them from, or undefined for "none, use a computed one". Results are cached per JID.
 */
export type AvatarProvider = (bareJid: string) => Promise<Buffer | string | undefined | null>;

export interface AvatarServiceOptions {
  log: Logger;
  provider?: AvatarProvider;
  /** Which bare JIDs are the application's users, whose avatars the provider supplies. */
  isAccount?: (bareJid: string) => boolean;
  /** Which bare JIDs are this server's anonymous sessions (SASL ANONYMOUS viewers). */
  isAnonymous?: (bareJid: string) => boolean;
}

/** The XEP-0153 photo hash: SHA-1 of the image, lower-case hex. */
function photoHash(png: Buffer): string {
  return digest('sha1', png, 'hex');
}

export function makeAvatar(png: Buffer): Avatar {
  const hash = photoHash(png);
  // Cached for as long as the viewer is around: keep the bytes in a buffer of their own size, not as a view into
  // the larger buffer they were encoded in (which would stay alive with them).
  const own = Buffer.allocUnsafeSlow(png.length);
  png.copy(own);
  return new AvatarBytes(hash, own);
}

export class AvatarService {
  private readonly set: AvatarSet | undefined;
  private masks: Masks | null = null;
  private starting: Promise<void> | null = null;
  private readonly limiter: Limiter;
  /**
   * Seed → photo hash, for every occupant's presence. Only the hash: an idle occupant's avatar is never looked at,
   * and its PNG (~0.6 KB with its buffer) is remade on demand, in ~0.25 ms, once evicted from `pngs`. Keyed by the
   * seed (the occupant's own string) rather than the design, so a hit neither derives the design nor adds a key.
   */
  private readonly hashes: LRUCache<string, string>;
  /** Design key → avatar with its bytes, for the avatars recently asked for (vCards, HTTP). */
  private readonly pngs: LRUCache<string, Avatar>;
  /** Seed → avatar, for a seed asked again (its vCard) without deriving its design; as many as `pngs`. */
  private readonly bySeed: LRUCache<string, Avatar>;
  /**
   * Seed → avatar drawn for its hash, or ahead for a viewer's login, and not asked for since, with its design's key
   * (see FRESH_MAX).
   */
  private readonly fresh: LRUCache<string, { key: string; avatar: Avatar }>;
  /** Prepared vCard answers by what they answer for (an occupant): see vcardAnswer(). */
  private readonly answers: LRUCache<object, { from: string; avatar: Avatar; prepared: PreparedStanza }>;
  /** Avatars drawn (composed and encoded) since start, for benches and tests. */
  private rendered = 0;
  /**
   * Hash → seed, so a PNG evicted from `pngs` can be made again when its URL is asked for. As many as `hashes`:
   * an entry costs ~250 B (the 40-character hash, the seed, the LRU's slots), and every new anonymous viewer adds
   * one, so at ten times `cacheSize` it kept growing for hours of churn after everything else had filled.
   */
  private readonly seeds: LRUCache<string, string>;
  /** Hash → avatar supplied by the provider. */
  private readonly provided: LRUCache<string, Avatar>;
  /** Bare JID → provider avatar (null: the provider has none). */
  private readonly accounts: LRUCache<string, Avatar | 'none'>;
  private readonly loading = new Map<string, Promise<Avatar | undefined>>();
  private botAvatar: Avatar | undefined;
  private readonly bots: Set<string>;

  constructor(
    readonly config: AvatarsConfig,
    private opts: AvatarServiceOptions,
  ) {
    this.set = config.set === 'none' ? undefined : SETS[config.set];
    this.limiter = new Limiter(config.maxConcurrent);
    this.hashes = boundedLru(config.cacheSize);
    this.pngs = boundedLru(Math.min(config.cacheSize, PNG_CACHE_MAX));
    this.bySeed = boundedLru(Math.min(config.cacheSize, PNG_CACHE_MAX));
    // As many as are drawn ahead, so a storm's logins do not push out each other's pictures before they are asked for.
    this.fresh = boundedLru(Math.min(config.cacheSize, Math.max(FRESH_MAX, config.drawAhead)));
    this.answers = boundedLru(Math.min(config.cacheSize, PNG_CACHE_MAX));
    this.seeds = boundedLru(config.cacheSize);
    this.provided = boundedLru(Math.max(100, Math.ceil(config.cacheSize / 4)));
    this.accounts = boundedLru(Math.max(100, Math.ceil(config.cacheSize / 4)), { ttl: 6 * 3600_000 });
    this.bots = new Set(config.bots);
  }

  /** Entries in the caches that grow with distinct viewers (for tests and benches that check they stay bounded). */
  cacheEntries(): { hashes: number; seeds: number; pngs: number; bySeed: number; fresh: number; answers: number } {
    return {
      hashes: this.hashes.size,
      seeds: this.seeds.size,
      pngs: this.pngs.size,
      bySeed: this.bySeed.size,
      fresh: this.fresh.size,
      answers: this.answers.size,
    };
  }

  /** How many avatars were drawn since start (each one costs a composition, a deflate and a SHA-1). */
  get renders(): number {
    return this.rendered;
  }

  get enabled(): boolean {
    return !!this.set;
  }
  /** Whether computed avatars can be drawn now (a set is chosen and its parts are loaded). */
  get canDraw(): boolean {
    return !!this.set && !!this.masks;
  }
  get hasProvider(): boolean {
    return !!this.opts.provider;
  }

  /**
   * Loads the masks of the configured set's parts (a few dozen, ~1 ms). If that fails the server runs on without
   * computed avatars (empty vCards, no hash in presences) rather than not at all.
   */
  start(): Promise<void> {
    this.starting ??= Promise.resolve(partsOf(this.set)).then(
      (parts) => {
        this.masks = loadMasks(parts);
      },
      (err: unknown) => {
        this.opts.log.error(
          `avatars: could not draw the avatar parts, avatars are off: ${(err as Error)?.message ?? err}`,
        );
      },
    );
    return this.starting;
  }

  /** The computed avatar for a seed; undefined when the set is `none` or the service is not started. */
  forSeed(seed: string): Avatar | undefined {
    if (!this.set || !this.masks) return undefined;
    let a = this.bySeed.get(seed);
    if (!a) {
      // Drawn moments ago for its presence's hash: the same bytes, moved to the caches of avatars asked for.
      const drawn = this.fresh.get(seed);
      if (drawn) {
        this.fresh.delete(seed);
        this.pngs.set(drawn.key, drawn.avatar);
        a = drawn.avatar;
      } else {
        a = this.render(designFor(this.set, seed));
      }
      this.seeds.set(a.hash, seed);
      this.hashes.set(seed, a.hash);
      this.bySeed.set(seed, a);
    }
    return a;
  }

  /** The photo hash of a seed's computed avatar (what presences carry); its bytes are kept only a little while. */
  hashForSeed(seed: string): string | undefined {
    if (!this.set || !this.masks) return undefined;
    let hash = this.hashes.get(seed);
    if (hash === undefined) {
      // Drawn ahead for an anonymous viewer's login (adopt): kept for its vCard request too (see forSeed).
      hash = this.fresh.get(seed)?.avatar.hash;
      if (hash === undefined) {
        const design = designFor(this.set, seed);
        let a = this.pngs.get(design.key);
        if (!a) {
          // Kept a little while only (FRESH_MAX): most occupants' pictures are never asked for.
          a = this.draw(design);
          this.fresh.set(seed, { key: design.key, avatar: a });
        }
        hash = a.hash;
      }
      this.hashes.set(seed, hash);
    }
    this.seeds.set(hash, seed);
    return hash;
  }

  /**
   * The answer to a vCard request about `holder` (an occupant) from its address `from`, showing `avatar`:
   * `<iq type="result" from="…"><vCard…/></iq>` serialized once, text and bytes (~2 KB), for every requester, who
   * each get it through withId() with their request's id and their JID. Made again when the address or the avatar
   * is not the one it was made for (a nick change, a provider's image arriving); as many as the PNG cache, and
   * dropped by forgetAnswer() when the holder goes.
   */
  vcardAnswer(holder: object, from: string, avatar: Avatar): PreparedStanza {
    let a = this.answers.get(holder);
    if (!a || a.from !== from || a.avatar !== avatar) {
      const prepared = new PreparedStanza(el('iq', { type: 'result', from }, avatar.vcard)).retain();
      a = { from, avatar, prepared };
      this.answers.set(holder, a);
    }
    return a.prepared;
  }

  forgetAnswer(holder: object): void {
    this.answers.delete(holder);
  }

  isBot(bareJid: string): boolean {
    return this.bots.has(bareJid);
  }
  isAccount(bareJid: string): boolean {
    return this.opts.isAccount?.(bareJid) ?? false;
  }

  /**
   * The seed of the picture an anonymous viewer of this server shows everywhere: its own vCard and, in every room,
   * its occupant (unless the rooms are seeded by nick). Clients show a user its own vCard's picture for itself in a
   * room (ConverseJS does), so a room avatar seeded otherwise would show the viewer one picture of itself and
   * everyone else another, and cost two drawings per viewer instead of one. Undefined for anyone else.
   */
  anonymousSeed(bareJid: string): string | undefined {
    return this.opts.isAnonymous?.(bareJid) ? bareJid : undefined;
  }

  /** The one bot avatar. */
  bot(): Avatar | undefined {
    if (!this.masks) return undefined;
    this.botAvatar ??= this.render({
      key: 'bot',
      background: BOT.background,
      layers: BOT.layers.map((l) => ({ ...l, dx: 0, dy: 0 })),
    });
    return this.botAvatar;
  }

  /** The provider's avatar for an account if it is already known (never waits). */
  accountAvatar(bareJid: string): Avatar | undefined {
    const a = this.accounts.get(bareJid);
    return a === 'none' ? undefined : a;
  }

  /** Whether the provider has already answered for this account (with or without an avatar). */
  accountKnown(bareJid: string): boolean {
    return this.accounts.has(bareJid);
  }

  /** Asks the provider (once at a time per JID, cached); resolves undefined when it has no usable image. */
  loadAccount(bareJid: string): Promise<Avatar | undefined> {
    const provider = this.opts.provider;
    if (!provider) return Promise.resolve(undefined);
    const known = this.accounts.get(bareJid);
    if (known !== undefined) return Promise.resolve(known === 'none' ? undefined : known);
    let p = this.loading.get(bareJid);
    if (!p) {
      p = (async () => {
        try {
          const src = await provider(bareJid);
          const input = typeof src === 'string' ? await fetchImage(src) : src;
          const avatar = input ? await this.limiter.run(() => shrink(input)) : undefined;
          this.accounts.set(bareJid, avatar ?? 'none');
          if (avatar) this.provided.set(avatar.hash, avatar);
          return avatar;
        } catch (err) {
          this.opts.log.warn(`avatar of ${bareJid}: ${(err as Error).message}`);
          this.accounts.set(bareJid, 'none', { ttl: 60_000 }); // retry a failing provider a minute later
          return undefined;
        } finally {
          this.loading.delete(bareJid);
        }
      })();
      this.loading.set(bareJid, p);
    }
    return p;
  }

  /** Drops a cached provider avatar (the user changed it); the next join asks the provider again. */
  forgetAccount(bareJid: string): void {
    this.accounts.delete(bareJid);
  }

  /** An avatar this server handed out, by hash (for HTTP). */
  byHash(hash: string): Avatar | undefined {
    const p = this.provided.get(hash);
    if (p) return p;
    if (this.botAvatar?.hash === hash) return this.botAvatar;
    const seed = this.seeds.get(hash);
    return seed === undefined ? undefined : this.forSeed(seed);
  }

  /**
   * Draws the avatar `seed` gets without caching it (an anonymous viewer's, made ahead: src/avatars/drawn-ahead.ts);
   * adopt() takes it in once the seed is in use. Undefined when computed avatars are off or not started.
   */
  drawAhead(seed: string): DrawnAvatar | undefined {
    if (!this.set || !this.masks) return undefined;
    const design = designFor(this.set, seed);
    return { key: design.key, avatar: this.draw(design) };
  }

  /**
   * Takes in an avatar drawn ahead for `seed` (a viewer logging in): kept with the pictures drawn moments ago, for
   * its first presence's hash and its vCard, which move it to the caches of avatars in use. A viewer that asks for
   * neither costs nothing more once later ones push it out.
   */
  adopt(seed: string, drawn: DrawnAvatar): void {
    this.fresh.set(seed, drawn);
  }

  private render(design: Design): Avatar {
    let a = this.pngs.get(design.key);
    if (!a) {
      a = this.draw(design);
      this.pngs.set(design.key, a);
    }
    return a;
  }

  private draw(design: Design): Avatar {
    this.rendered++;
    return makeAvatar(renderDesign(design, this.masks!));
  }
}

async function fetchImage(url: string): Promise<Buffer | undefined> {
  if (!/^https?:\/\//i.test(url)) throw new Error(`avatar URL must be http(s), got "${url.slice(0, 80)}"`);
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'follow' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_SOURCE_BYTES) throw new Error(`GET ${url}: ${len} bytes is too large`);
  const buf = Buffer.from(await res.arrayBuffer());
  if (buf.length > MAX_SOURCE_BYTES) throw new Error(`GET ${url}: ${buf.length} bytes is too large`);
  return buf;
}

/**
 * Any image sharp reads → 60×60 palette PNG, fewer colours until it fits in 1.5 KB. sharp (libvips, ~25 MB of
 * libraries and heap once loaded) is imported on the first image an application supplies, never for computed avatars.
 */
async function shrink(input: Buffer): Promise<Avatar> {
  const { default: sharp } = await import('sharp');
  let best: Buffer | undefined;
  for (const colours of [64, 32, 16, 8, 4]) {
    const png = await sharp(input, { limitInputPixels: 4096 * 4096, animated: false })
      .resize(60, 60, { fit: 'cover' })
      .flatten({ background: '#ffffff' })
      .png({ palette: true, colours, compressionLevel: 9, effort: 10, dither: 0.5 })
      .toBuffer();
    best = png;
    if (png.length <= MAX_AVATAR_BYTES) break;
  }
  return makeAvatar(best!);
}
