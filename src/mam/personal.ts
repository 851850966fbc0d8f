// XEP-0313 on accounts: a user's own archive of one-to-one chat (sent and received), in the same FileArchive as
// the rooms under the key `user:<bare JID>`, with archiving preferences (§5: default always/never/roster, plus
// always/never JID lists) kept in one atomic JSON document. Anonymous viewers have no archive.
import { join } from 'node:path';
import type { Router } from '../xmpp/router.js';
import type { IqRegistry, IqContext } from '../xmpp/iq-registry.js';
import type { DiscoRegistry } from '../xmpp/disco.js';
import type { LocalSession } from '../xmpp/session-types.js';
import { NS } from '../xmpp/namespaces.js';
import { StanzaError } from '../xmpp/errors.js';
import { parseJid, bareString } from '../xmpp/jid.js';
import { cloneElement, el, type Element } from '../xmpp/xml.js';
import { JsonDocument } from '../storage/json-document.js';
import type { FileArchive, RoomArchive } from '../storage/archive.js';
import { MAM_EXTENDED, MAM_NS } from './features.js';
import { runMamQuery } from './handler.js';

type DefaultPolicy = 'always' | 'never' | 'roster';

interface Prefs {
  default: DefaultPolicy;
  always: string[];
  never: string[];
}

/** Prosody's default_archive_policy = true: archive everything unless the user says otherwise. */
const DEFAULT_PREFS: Prefs = { default: 'always', always: [], never: [] };
/** Bound on JIDs per list, so one user cannot grow the preferences document without limit. */
const MAX_PREF_JIDS = 1000;

export interface PersonalMamOptions {
  dataDir: string;
  /** Whether a bare JID is an account (anonymous viewers are not archived). */
  isAccount(bare: string): boolean;
  /** Largest page served. */
  maxPage: number;
  log: { error(msg: string): void };
}

export interface PersonalMam {
  flush(): Promise<void>;
}

export function archiveKey(bare: string): string {
  return `user:${bare}`;
}

/** One-to-one messages worth keeping: chat or normal with a body, no no-store hint, not MUC traffic. */
function archivable(m: Element): boolean {
  const type = m.attrs.type ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return false;
  if (!m.getChild('body') || m.getChildText('body') === '') return false;
  if (m.getChild('no-store', NS.HINTS) || m.getChild('no-permanent-store', NS.HINTS)) return false;
  if (m.getChild('x', NS.MUC_USER) || m.getChild('received', NS.CARBONS) || m.getChild('sent', NS.CARBONS))
    return false;
  return true;
}

function jidList(parent: Element | undefined): string[] {
  const out: string[] = [];
  for (const j of parent?.getChildren('jid') ?? []) {
    const p = parseJid(j.getText().trim());
    if (!p) throw new StanzaError('jid-malformed', `not a JID: ${j.getText()}`, 'modify');
    const s = p.toString();
    if (!out.includes(s)) out.push(s);
  }
  if (out.length > MAX_PREF_JIDS)
    throw new StanzaError('not-acceptable', `at most ${MAX_PREF_JIDS} JIDs per list`, 'modify');
  return out;
}

function prefsElement(p: Prefs): Element {
  return el(
    'prefs',
    { xmlns: MAM_NS, default: p.default },
    el('always', {}, ...p.always.map((j) => el('jid', {}, j))),
    el('never', {}, ...p.never.map((j) => el('jid', {}, j))),
  );
}

export function installPersonalMam(
  iq: IqRegistry,
  disco: DiscoRegistry,
  router: Router,
  archive: FileArchive,
  opts: PersonalMamOptions,
): PersonalMam {
  const doc = new JsonDocument<Record<string, Prefs>>(join(opts.dataDir, 'mam-prefs.json'));
  let prefs: Record<string, Prefs> | undefined;
  const loading = doc.read().then(
    (v) => {
      prefs = v ?? {};
    },
    (err: Error) => {
      opts.log.error(`mam: cannot read preferences (${err.message}); archiving with defaults`);
      prefs = {};
    },
  );
  const prefsOf = (bare: string): Prefs => prefs?.[bare] ?? DEFAULT_PREFS;

  const wants = (owner: string, other: string): boolean => {
    const p = prefsOf(owner);
    const otherBare = other.split('/')[0];
    if (p.never.includes(other) || p.never.includes(otherBare)) return false;
    if (p.always.includes(other) || p.always.includes(otherBare)) return true;
    return p.default === 'always'; // 'roster': accounts here keep no roster, so nobody is in it
  };

  const store = (owner: string, other: string, m: Element): void => {
    if (!opts.isAccount(owner) || !wants(owner, other)) return;
    const copy = cloneElement(m);
    copy.attrs.xmlns = NS.CLIENT;
    // RFC 6120 §4.7.4: a stanza without xml:lang has the stream's, which is 'en' on our streams.
    if (!copy.attrs['xml:lang']) copy.attrs['xml:lang'] = 'en';
    // Whole seconds, as Prosody stamps user archives (its conformance transcripts rely on equal stamps).
    const input = { ts: Math.floor(Date.now() / 1000) * 1000, nick: '', realJid: other, xml: copy.toString() };
    const key = archiveKey(owner);
    const append = (ra: RoomArchive) => {
      try {
        ra.append(input);
      } catch (err) {
        opts.log.error(`mam: not archived for ${owner}: ${(err as Error).message}`);
      }
    };
    const ra = archive.get(key);
    if (ra) append(ra);
    else
      archive
        .open(key)
        .then(append, (err: Error) => opts.log.error(`mam: archive of ${owner} unavailable: ${err.message}`));
  };

  router.observe('messageSent', (m, sender: LocalSession) => {
    if (!sender.anonymous && m.attrs.to && archivable(m)) store(sender.bareJid, m.attrs.to, m);
  });
  router.observe('messageDelivered', (m, bare) => {
    if (m.attrs.from && archivable(m)) store(bare, m.attrs.from, m);
  });
  router.observe('storedOffline', (m, bare) => {
    if (m.attrs.from && archivable(m)) store(bare, m.attrs.from, m);
  });

  /** Only the account itself reads or configures its archive. */
  const own = (ctx: IqContext): string => {
    const bare = ctx.session?.bareJid;
    if (!bare || ctx.session!.anonymous || bareString(parseJid(ctx.to)!) !== bare || !opts.isAccount(bare)) {
      throw new StanzaError('forbidden', 'only the account itself may use its archive', 'auth');
    }
    return bare;
  };

  const query = async (ctx: IqContext) => {
    const bare = own(ctx);
    const key = archiveKey(bare);
    const ra = archive.get(key) ?? (await archive.open(key));
    const access = { canRead: true, showRealJids: true, canFilterByJid: true };
    // A user's own archive is read rarely and by one client: its results go as trees, through the router.
    return runMamQuery(ctx.iq, ra, access, (r) => router.route(r.toElement()), {
      archiveJid: bare,
      maxPage: opts.maxPage,
      personal: true,
    });
  };
  iq.register('account', 'query', MAM_NS, 'set', query);
  iq.register('account', 'query', MAM_NS, 'get', query);
  iq.register('account', 'metadata', MAM_NS, 'get', query);

  iq.register('account', 'prefs', MAM_NS, 'get', async (ctx) => {
    const bare = own(ctx);
    await loading;
    return prefsElement(prefsOf(bare));
  });
  iq.register('account', 'prefs', MAM_NS, 'set', async (ctx) => {
    const bare = own(ctx);
    const d = ctx.payload.attrs.default;
    if (d !== undefined && d !== 'always' && d !== 'never' && d !== 'roster')
      throw new StanzaError('bad-request', 'default must be always, never or roster', 'modify');
    await loading;
    const p: Prefs = {
      default: (d as DefaultPolicy | undefined) ?? prefsOf(bare).default,
      always: jidList(ctx.payload.getChild('always')),
      never: jidList(ctx.payload.getChild('never')),
    };
    prefs![bare] = p;
    void doc.save(prefs!).catch((err: Error) => opts.log.error(`mam: preferences not saved: ${err.message}`));
    return prefsElement(p);
  });

  // XEP-0313 §7: an account advertises MAM on its bare JID.
  disco.addAccountFeature(MAM_NS);
  disco.addAccountFeature(MAM_EXTENDED);
  return { flush: () => doc.flush() };
}
