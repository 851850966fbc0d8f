// An iq result whose payload is already serialized (an avatar's vCard): the answer is built as text with only its
// id, from and to spliced in, instead of a tree that the session would copy, walk and escape again for each answer.
import { escapeAttr } from './xml.js';

/** `<iq xmlns="jabber:client" type="result" …>payload</iq>`; `payloadXml` must be one serialized element (or ''). */
export function iqResultXml(id: string | undefined, from: string, to: string, payloadXml: string): string {
  const head =
    '<iq xmlns="jabber:client" type="result"' +
    (id === undefined ? '' : ' id="' + escapeAttr(id) + '"') +
    ' from="' +
    escapeAttr(from) +
    '" to="' +
    escapeAttr(to) +
    '"';
  return payloadXml ? head + '>' + payloadXml + '</iq>' : head + '/>';
}
