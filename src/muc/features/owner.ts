// muc#owner (XEP-0045 §10): the room configuration form (each feature adds its fields), its submission (status
// codes 104, 170–173 announced after the result), and room destruction with reason and alternate venue.
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import { buildForm, formType, readForm, type FormField } from '../forms.js';
import type { ConfigSubmittedEvent, Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';
import { bareString } from '../../xmpp/jid.js';

function requireOwner(room: Room, bare: string): void {
  if (room.affiliationOf(bare) !== 'owner')
    throw new StanzaError('forbidden', 'Only owners can configure rooms', 'auth');
}

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('query', MUC_NS.OWNER, 'get', ({ room, from }) => {
    requireOwner(room, bareString(from));
    const fields: FormField[] = [];
    hooks.fire('config-form', { room, fields, actor: from.toString() });
    return el(
      'query',
      { xmlns: MUC_NS.OWNER },
      buildForm(
        'form',
        MUC_NS.ROOMCONFIG,
        fields,
        `Configuration for ${room.jid}`,
        'Complete and submit this form to configure the room.',
      ),
    );
  });

  iq.register('query', MUC_NS.OWNER, 'set', ({ room, from, payload, reply }) => {
    requireOwner(room, bareString(from));
    const destroy = payload.getChild('destroy');
    if (destroy) {
      const alt = destroy.attrs.jid;
      room.destroy(destroy.getChildText('reason') ?? undefined, alt, destroy.getChildText('password') ?? undefined);
      return;
    }
    const x = payload.getChild('x', MUC_NS.DATA);
    if (!x) throw new StanzaError('bad-request', undefined, 'modify');
    if (x.attrs.type === 'cancel') return;
    if (x.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Not a submitted form', 'modify');
    const fields = readForm(x);
    const ft = formType(fields);
    if (fields.size > 0 && ft !== undefined && ft !== MUC_NS.ROOMCONFIG) {
      throw new StanzaError('bad-request', 'Form is not of type room configuration', 'modify');
    }
    const before = structuredClone(room.config);
    const ev: ConfigSubmittedEvent = { room, fields, codes: new Set(), actor: from.toString() };
    hooks.fire('config-submitted', ev);
    room.host.persist(room);
    reply();
    hooks.fire('config-changed', { room, codes: ev.codes, actor: ev.actor, before });
    room.announceCodes(ev.codes);
  });
}
