// PeerTube client script (scope "common"): the chat beside a live on the watch page, with a button to open it in a
// new window, and the "use chat" checkbox on the live creation and update forms.
const FIELD = 'livechat-active';

function hasChat(video, s) {
  if (!video || (video.isLocal === false)) return false;
  const active = video.pluginData && (video.pluginData[FIELD] === true || video.pluginData[FIELD] === 'true');
  if (video.isLive && s['chat-per-live-video'] !== false && active) return true;
  if (video.isLive && s['chat-all-lives'] === true) return true;
  if (!video.isLive && s['chat-all-non-lives'] === true) return true;
  const list = String(s['chat-videos-list'] || '').split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
  return list.some((l) => l === video.uuid || l.endsWith('/' + video.uuid));
}

function removeChat() {
  const old = document.getElementById('peertube-plugin-livechat-container');
  if (old) old.remove();
}

function showChat(url, settings, label) {
  removeChat();
  const placeholder = document.getElementById('plugin-placeholder-player-next');
  if (!placeholder) return;
  const box = document.createElement('div');
  box.id = 'peertube-plugin-livechat-container';
  if (settings['chat-open-blank'] !== false) {
    const bar = document.createElement('div');
    bar.className = 'peertube-plugin-livechat-buttons';
    const open = document.createElement('a');
    open.href = url;
    open.target = '_blank';
    open.rel = 'noopener';
    open.className = 'peertube-plugin-livechat-button peertube-plugin-livechat-open-blank';
    open.textContent = label;
    bar.appendChild(open);
    box.appendChild(bar);
  }
  const frame = document.createElement('iframe');
  frame.src = url;
  frame.title = 'Chat';
  frame.className = 'peertube-plugin-livechat-iframe';
  frame.setAttribute('allow', 'clipboard-write');
  box.appendChild(frame);
  placeholder.appendChild(box);
}

export async function register({ registerHook, registerVideoField, peertubeHelpers }) {
  const settings = await peertubeHelpers.getSettings();
  const base = peertubeHelpers.getBaseRouterRoute().replace(/\/$/, '');
  const label = (await peertubeHelpers.translate('Open in a new window')) || 'Open in a new window';

  if (settings['chat-per-live-video'] !== false && typeof registerVideoField === 'function') {
    const field = {
      name: FIELD,
      label: (await peertubeHelpers.translate('Use chat')) || 'Use chat',
      descriptionHTML: (await peertubeHelpers.translate('A chat room is shown beside the live')) || '',
      type: 'input-checkbox',
      default: false,
      // On the update form, only lives have the switch.
      hidden: (o) => o.type === 'update' && !o.liveVideo,
    };
    for (const type of ['go-live', 'update']) registerVideoField(field, { type, tab: 'main' });
  }

  registerHook({
    target: 'action:router.navigation-end',
    handler: () => removeChat(),
  });
  registerHook({
    target: 'action:video-watch.video.loaded',
    handler: ({ video }) => {
      if (!hasChat(video, settings) || settings['chat-auto-display'] === false && !video.isLive) return removeChat();
      showChat(base + '/webchat/room/' + encodeURIComponent(video.uuid), settings, label);
    },
  });
}
