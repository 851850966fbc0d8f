// Parsing XEP-0313 queries: the form, RSM, flip-page, and the errors the XEP asks for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'ltx';
import { parseMamQuery, mamQueryForm } from '../../src/mam/query.js';
import { parseDateTime, formatDateTime } from '../../src/mam/datetime.js';
import { StanzaError } from '../../src/xmpp/errors.js';

const iq = (inner: string, type = 'set') =>
  parse(`<iq xmlns="jabber:client" type="${type}" id="q1" from="u@localhost/r" to="room@muc.localhost">${inner}</iq>`);
const form = (fields: string) =>
  `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>${fields}</x>`;
const field = (v: string, ...vals: string[]) =>
  `<field var="${v}">${vals.map((x) => `<value>${x}</value>`).join('')}</field>`;

function rejects(xml: string, condition: string, type = 'set') {
  try {
    parseMamQuery(iq(xml, type));
  } catch (err) {
    assert.instance(err, StanzaError);
    assert.is((err as StanzaError).condition, condition, xml);
    return;
  }
  assert.unreachable(`accepted: ${xml}`);
}

test('a full query: form fields, RSM and flip-page', () => {
  const q = parseMamQuery(
    iq(
      `<query xmlns="urn:xmpp:mam:2" queryid="f27">${form(
        field('with', 'room@muc.localhost/juliet') +
          field('start', '2010-06-07T00:00:00Z') +
          field('end', '2010-07-07T13:23:54.250Z') +
          field('before-id', 'b1') +
          field('after-id', 'a1') +
          field('ids', 'x', 'y'),
      )}<set xmlns="http://jabber.org/protocol/rsm"><max>10</max><after>c1</after></set><flip-page/></query>`,
    ),
  );
  assert.is(q.kind, 'query');
  assert.is(q.queryid, 'f27');
  assert.is(q.with, 'room@muc.localhost/juliet');
  assert.is(q.start, Date.UTC(2010, 5, 7));
  assert.is(q.end, Date.UTC(2010, 6, 7, 13, 23, 54, 250));
  assert.is(q.beforeId, 'b1');
  assert.is(q.afterId, 'a1');
  assert.equal(q.ids, ['x', 'y']);
  assert.is(q.max, 10);
  assert.is(q.after, 'c1');
  assert.is(q.flipPage, true);
});

test('no form, empty <before/> asks for the last page, empty fields are ignored', () => {
  const q = parseMamQuery(
    iq(`<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>5</max><before/></set></query>`),
  );
  assert.is(q.before, '');
  assert.is(q.max, 5);
  assert.is(q.flipPage, false);
  const q2 = parseMamQuery(iq(`<query xmlns="urn:xmpp:mam:2">${form(field('with') + field('start', ''))}</query>`));
  assert.is(q2.with, undefined);
  assert.is(q2.start, undefined);
});

test('get returns the form request; metadata', () => {
  assert.is(parseMamQuery(iq('<query xmlns="urn:xmpp:mam:2"/>', 'get')).kind, 'form');
  assert.is(parseMamQuery(iq('<metadata xmlns="urn:xmpp:mam:2"/>', 'get')).kind, 'metadata');
  const f = mamQueryForm();
  const vars = f.getChildren('field').map((x) => x.attrs.var);
  for (const v of ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']) assert.ok(vars.includes(v), v);
  assert.is(f.getChildren('field').find((x) => x.attrs.var === 'with')!.attrs.type, 'jid-single');
  assert.ok(
    f
      .getChildren('field')
      .find((x) => x.attrs.var === 'ids')!
      .getChild('validate', 'http://jabber.org/protocol/xdata-validate')
      ?.getChild('open'),
  );
});

test('unknown fields are feature-not-implemented; bad values are bad-request', () => {
  rejects(
    `<query xmlns="urn:xmpp:mam:2">${form(field('{http://example.com/}free-text-search', 'x'))}</query>`,
    'feature-not-implemented',
  );
  rejects(
    `<query xmlns="urn:xmpp:mam:2">${form(field('include-groupchat', 'true'))}</query>`,
    'feature-not-implemented',
  );
  rejects(`<query xmlns="urn:xmpp:mam:2">${form(field('start', 'yesterday'))}</query>`, 'bad-request');
  rejects(`<query xmlns="urn:xmpp:mam:2">${form(field('end', '2010-02-30T00:00:00Z'))}</query>`, 'bad-request');
  rejects(`<query xmlns="urn:xmpp:mam:2">${form(field('with', '@bad'))}</query>`, 'bad-request');
  rejects(
    `<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>urn:xmpp:mam:1</value></field></x></query>`,
    'bad-request',
  );
  rejects(`<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="form"/></query>`, 'bad-request');
  rejects(
    `<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>ten</max></set></query>`,
    'bad-request',
  );
  rejects(
    `<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>-1</max></set></query>`,
    'bad-request',
  );
  rejects(
    `<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><after/></set></query>`,
    'bad-request',
  );
  rejects(
    `<query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><after>a</after><before>b</before></set></query>`,
    'bad-request',
  );
  rejects('<query xmlns="urn:xmpp:mam:1"/>', 'service-unavailable');
});

test('livechat x-search: from and occupant_id fields', () => {
  const q = parseMamQuery(
    iq(
      `<query xmlns="urn:xmpp:mam:2#x-search" queryid="s1"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2#x-search</value></field>${field('from', 'room@muc.localhost/bob')}${field('occupant_id', 'occ-1')}</x></query>`,
    ),
  );
  assert.is(q.search, true);
  assert.is(q.from, 'room@muc.localhost/bob');
  assert.is(q.occupantId, 'occ-1');
});

test('XEP-0082 DateTime in and out', () => {
  assert.is(parseDateTime('2010-06-07T02:00:00+02:00'), Date.UTC(2010, 5, 7));
  assert.is(parseDateTime('2010-06-07T00:00:00.123456-01:30'), Date.UTC(2010, 5, 7, 1, 30, 0, 123));
  assert.is(parseDateTime('2010-06-07 00:00:00Z'), null);
  assert.is(formatDateTime(Date.UTC(2010, 5, 7)), '2010-06-07T00:00:00Z');
  assert.is(formatDateTime(Date.UTC(2010, 5, 7, 0, 0, 0, 5)), '2010-06-07T00:00:00.005Z');
});

test.run();
