// Parsing of XEP-0313 queries (data form + XEP-0059 RSM + flip-page) and the query form a client can fetch.
import { Element, el } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { StanzaError } from '../xmpp/errors.js';
import { parseJid } from '../xmpp/jid.js';
import { parseDateTime } from './datetime.js';
import { MAM_NS, MAM_SEARCH_NS, OCCUPANT_ID_FIELD } from './features.js';

export interface MamQuery {
  /** set with <query/>: a query; get with <query/>: the form; get with <metadata/>: archive bounds. */
  kind: 'query' | 'form' | 'metadata';
  /** Livechat's x-search namespace (owners/admins searching one participant). */
  search: boolean;
  queryid?: string;
  start?: number;
  end?: number;
  /** Raw `with` JID (normalized by parseJid). */
  with?: string;
  beforeId?: string;
  afterId?: string;
  ids?: string[];
  occupantId?: string;
  /** x-search `from`: an occupant JID (room@service/nick) or a real JID. */
  from?: string;
  max?: number;
  after?: string;
  /** '' asks for the last page. */
  before?: string;
  index?: number;
  flipPage: boolean;
}

const MAM_FIELDS = new Set(['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids', OCCUPANT_ID_FIELD]);
const SEARCH_FIELDS = new Set(['FORM_TYPE', 'from', 'occupant_id']);

function bad(text: string): StanzaError {
  return new StanzaError('bad-request', text);
}

function values(field: Element): string[] {
  return field.getChildren('value').map((v) => v.getText());
}

function nonNegInt(s: string | null | undefined, what: string): number | undefined {
  if (s === null || s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d{1,9}$/.test(t)) throw bad(`RSM <${what}> must be a non-negative integer`);
  return Number(t);
}

/** Reads a MAM iq. Throws StanzaError: bad-request for malformed values, feature-not-implemented for unknown fields. */
export function parseMamQuery(iq: Element): MamQuery {
  const payload = iq.getChildElements()[0];
  if (!payload) throw bad('empty iq');
  const ns = payload.attrs.xmlns;
  if (payload.name === 'metadata' && ns === MAM_NS) {
    if (iq.attrs.type !== 'get') throw bad('metadata is fetched with type get');
    return { kind: 'metadata', search: false, flipPage: false };
  }
  if (payload.name !== 'query' || (ns !== MAM_NS && ns !== MAM_SEARCH_NS)) throw new StanzaError('service-unavailable');
  const search = ns === MAM_SEARCH_NS;
  if (iq.attrs.type === 'get') return { kind: 'form', search, flipPage: false };
  if (iq.attrs.type !== 'set') throw bad('unexpected iq type');

  const q: MamQuery = { kind: 'query', search, flipPage: false };
  if (payload.attrs.queryid !== undefined) q.queryid = payload.attrs.queryid;
  if (payload.attrs.node !== undefined)
    throw new StanzaError('feature-not-implemented', 'pubsub archives are not served here');

  const form = payload.getChild('x', NS.DATA_FORMS);
  if (form) {
    if (form.attrs.type !== 'submit') throw bad('the query form must be of type submit');
    const known = search ? SEARCH_FIELDS : MAM_FIELDS;
    for (const f of form.getChildren('field')) {
      const name = f.attrs.var;
      if (!name) throw bad('form field without var');
      if (!known.has(name)) throw new StanzaError('feature-not-implemented', `unsupported field: ${name}`);
      const vals = values(f);
      if (name === 'FORM_TYPE') {
        const want = search ? MAM_SEARCH_NS : MAM_NS;
        if (vals[0] !== want) throw bad(`FORM_TYPE must be ${want}`);
        continue;
      }
      if (name === 'ids') {
        const ids = vals.map((v) => v.trim()).filter(Boolean);
        if (ids.length) q.ids = ids;
        continue;
      }
      const v = vals[0]?.trim();
      if (!v) continue; // an empty field filters nothing
      switch (name) {
        case 'start':
        case 'end': {
          const t = parseDateTime(v);
          if (t === null) throw bad(`${name} is not an XEP-0082 DateTime`);
          q[name] = t;
          break;
        }
        case 'with':
        case 'from': {
          const j = parseJid(v);
          if (!j) throw bad(`${name} is not a valid JID`);
          q[name] = j.toString();
          break;
        }
        case 'before-id':
          q.beforeId = v;
          break;
        case 'after-id':
          q.afterId = v;
          break;
        case OCCUPANT_ID_FIELD:
        case 'occupant_id':
          q.occupantId = v;
          break;
      }
    }
  }

  const set = payload.getChild('set', NS.RSM);
  if (set) {
    q.max = nonNegInt(set.getChildText('max'), 'max');
    q.index = nonNegInt(set.getChildText('index'), 'index');
    const after = set.getChild('after');
    const before = set.getChild('before');
    if (after && before) throw bad('RSM <after> and <before> together are not supported; use after-id and before-id');
    if (after) {
      const a = after.getText().trim();
      if (!a) throw bad('RSM <after> must not be empty');
      q.after = a;
    }
    if (before) q.before = before.getText().trim();
    if (q.max === undefined) delete q.max;
    if (q.index === undefined) delete q.index;
  }
  if (payload.getChild('flip-page')) q.flipPage = true;
  return q;
}

/** The form answering `<iq type='get'><query xmlns='urn:xmpp:mam:2'/></iq>` (XEP-0313 §4.1.5). */
export function mamQueryForm(search = false): Element {
  if (search) {
    return el(
      'x',
      { xmlns: NS.DATA_FORMS, type: 'form' },
      el('field', { type: 'hidden', var: 'FORM_TYPE' }, el('value', {}, MAM_SEARCH_NS)),
      el('field', { type: 'jid-single', var: 'from' }),
      el('field', { type: 'text-single', var: 'occupant_id' }),
    );
  }
  return el(
    'x',
    { xmlns: NS.DATA_FORMS, type: 'form' },
    el('field', { type: 'hidden', var: 'FORM_TYPE' }, el('value', {}, MAM_NS)),
    el('field', { type: 'jid-single', var: 'with' }),
    el('field', { type: 'text-single', var: 'start' }),
    el('field', { type: 'text-single', var: 'end' }),
    el('field', { type: 'text-single', var: 'before-id' }),
    el('field', { type: 'text-single', var: 'after-id' }),
    el(
      'field',
      { type: 'list-multi', var: 'ids' },
      el('validate', { xmlns: 'http://jabber.org/protocol/xdata-validate', datatype: 'xs:string' }, el('open')),
    ),
    el('field', { type: 'text-single', var: OCCUPANT_ID_FIELD, label: 'Occupant id (owners and admins)' }),
  );
}
