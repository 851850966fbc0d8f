// XEP-0085 chat states in groupchat: harmless in a small room, a flood of N deliveries per keystroke in a live
// stream. Messages carrying only a chat state are dropped once the room reaches MucConfig.chatStateDropThreshold.
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export function install({ hooks, config }: FeatureContext): void {
  hooks.on(
    'groupchat',
    ({ room, stanza }) => {
      if (room.occupantCount < config.chatStateDropThreshold) return;
      let state = false;
      for (const c of stanza.children) {
        if (typeof c === 'string') continue;
        if (c.attrs.xmlns === MUC_NS.CHATSTATES) state = true;
        else if (c.name !== 'origin-id' && c.attrs.xmlns !== 'urn:xmpp:hints') return; // carries something else
      }
      return state;
    },
    70,
  );
}
