// How this instance's chat is reachable, from the settings, for the federation builders.
import type { LocalChatServer } from '../federation/index.js';
import type { LivechatSettings } from './settings.js';

export function localChatServer(s: LivechatSettings, webserverUrl: string): LocalChatServer {
  return {
    webserverUrl,
    pluginShortName: 'livechat',
    allowS2S: s.roomAllowS2s,
    s2sPort: s.s2sPort,
    dontPublishRemotely: s.federationDontPublishRemotely,
    noAnonymous: s.noAnonymous,
    disableWebsocket: s.disableWebsocket,
  };
}
