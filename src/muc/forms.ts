// XEP-0004 data forms: building the forms a room shows and reading the ones clients submit.
import { Element, el } from '../xmpp/xml.js';
import { MUC_NS } from './types.js';

export interface FormField {
  var: string;
  type?:
    | 'boolean'
    | 'fixed'
    | 'hidden'
    | 'jid-multi'
    | 'jid-single'
    | 'list-multi'
    | 'list-single'
    | 'text-multi'
    | 'text-private'
    | 'text-single';
  label?: string;
  desc?: string;
  values?: string[];
  options?: Array<{ value: string; label?: string }>;
  required?: boolean;
  /**
   * Changes far more often than the rest of the form (an occupant count): a cached serialization of the form splices
   * its one value in instead of being made again (room disco#info).
   */
  volatile?: boolean;
}

export function buildForm(
  type: 'form' | 'result' | 'submit',
  formType: string | null,
  fields: FormField[],
  title?: string,
  instructions?: string,
): Element {
  const x = el(
    'x',
    { xmlns: MUC_NS.DATA, type },
    title ? el('title', {}, title) : undefined,
    instructions ? el('instructions', {}, instructions) : undefined,
  );
  if (formType) x.append(el('field', { var: 'FORM_TYPE', type: 'hidden' }, el('value', {}, formType)));
  for (const f of fields) {
    const fe = el('field', { var: f.var, type: f.type, label: f.label });
    if (f.desc) fe.append(el('desc', {}, f.desc));
    if (f.required) fe.append(el('required'));
    for (const o of f.options ?? []) fe.append(el('option', { label: o.label }, el('value', {}, o.value)));
    for (const v of f.values ?? []) fe.append(el('value', {}, v));
    x.append(fe);
  }
  return x;
}

/** Field var → values of a submitted form. */
export function readForm(x: Element): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of x.getChildren('field')) {
    const name = f.attrs.var;
    if (!name) continue;
    out.set(
      name,
      f.getChildren('value').map((v) => v.getText()),
    );
  }
  return out;
}

export function formType(fields: Map<string, string[]>): string | undefined {
  return fields.get('FORM_TYPE')?.[0];
}

/** XEP-0004 booleans: "1"/"true" and "0"/"false"; undefined when absent or malformed. */
export function asBool(v: string[] | undefined): boolean | undefined {
  if (!v || v.length === 0) return undefined;
  const s = v[0].trim();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  return undefined;
}

export function boolValue(b: boolean): string {
  return b ? '1' : '0';
}
