// XEP-0313 on rooms: the single place where MAM iqs meet the room. The archive module injects a handler; this file
// checks who may read the room's archive, owns muc#roomconfig_enablearchiving (status 170/171) and the disco feature.
import { StanzaError } from '../../xmpp/errors.js';
import type { Element } from '../../xmpp/xml.js';
import type { Room, RoomIqContext } from '../room.js';
import { AFF_RANK } from '../types.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';
import { MAM_NS, MAM_ROOM_FEATURES, MAM_SEARCH_NS } from '../../xmpp/mam-namespaces.js';
import { bareString } from '../../xmpp/jid.js';

export interface MucMamRequest {
  room: Room;
  /** The full iq (get: form request; set: query). */
  iq: Element;
  query: Element;
  /** Real full JID of the requester: result messages go there, from the room's bare JID. */
  from: string;
}

export interface MucMamHandler {
  /** Sends the result <message/>s itself and resolves to the iq result payload (<fin/>, or the form for get). */
  query(req: MucMamRequest): Promise<Element | void>;
}

function mayRead(room: Room, ctx: RoomIqContext): boolean {
  if (!room.config.membersOnly) return true;
  return AFF_RANK[room.affiliationOf(bareString(ctx.from))] >= AFF_RANK.member;
}

export function install({ hooks, iq, mam }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(boolField('muc#roomconfig_enablearchiving', 'Archive chat on server', room.config.enableArchiving));
    },
    15,
  );
  hooks.on('config-submitted', (ev) => {
    if (submitBool(ev, 'muc#roomconfig_enablearchiving', 'enableArchiving'))
      ev.codes.add(ev.room.config.enableArchiving ? '170' : '171');
  });
  if (!mam) return;
  const handle = (ctx: RoomIqContext) => {
    if (!ctx.room.config.enableArchiving) throw new StanzaError('service-unavailable', undefined, 'cancel');
    if (!mayRead(ctx.room, ctx)) throw new StanzaError('forbidden', undefined, 'auth');
    return mam.query({ room: ctx.room, iq: ctx.stanza, query: ctx.payload, from: ctx.from.toString() });
  };
  // Queries and the query form, archive metadata (§6), and livechat's owner/admin search (same results).
  iq.register('query', MAM_NS, 'set', handle);
  iq.register('query', MAM_NS, 'get', handle);
  iq.register('metadata', MAM_NS, 'get', handle);
  iq.register('query', MAM_SEARCH_NS, 'set', handle);
  iq.register('query', MAM_SEARCH_NS, 'get', handle);
  hooks.on('disco-info', ({ room, features }) => {
    if (room.config.enableArchiving) for (const f of MAM_ROOM_FEATURES) features.add(f);
  });
}
