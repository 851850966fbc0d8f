// PeerTube client script (scope "common"): the chat beside a live on the watch page, with a button to open it in a
// new window and, for those livechat's chat-share-url setting names, a "share chat link" panel (the chat page's
// permanent URL, read-only and transparent for OBS, or an iframe to embed), and the "use chat" checkbox on the live
// creation and update forms.
const FIELD = 'livechat-active';

function hasChat(video, s) {
  if (!video || video.isLocal === false) return false;
  const active = video.pluginData && (video.pluginData[FIELD] === true || video.pluginData[FIELD] === 'true');
  if (video.isLive && s['chat-per-live-video'] !== false && active) return true;
  if (video.isLive && s['chat-all-lives'] === true) return true;
  if (!video.isLive && s['chat-all-non-lives'] === true) return true;
  const list = String(s['chat-videos-list'] || '')
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  return list.some((l) => l === video.uuid || l.endsWith('/' + video.uuid));
}

function removeChat() {
  const old = document.getElementById('peertube-plugin-livechat-container');
  if (old) old.remove();
}

// ---- "Share chat link" (livechat's chat-share-url setting) ----
// Who sees the button, as livechat guesses it from what PeerTube's web client keeps in localStorage (only cosmetic:
// the link is public anyway): everyone, the video's owner, the owner and instance moderators, or nobody.
function mayShare(video, s) {
  if (!video || video.isLocal === false) return false;
  const who = s['chat-share-url'] || 'owner';
  if (who === 'everyone') return true;
  if (who === 'nobody') return false;
  let username = '';
  let role = '';
  try {
    username = window.localStorage.getItem('username') || '';
    role = window.localStorage.getItem('role') || '';
  } catch (e) {
    /* storage refused: not the owner */
  }
  const mine = !!username && !!video.account && username === video.account.name;
  if (who === 'owner') return mine;
  if (who === 'owner+moderators') return mine || role === '0' || role === '1';
  return false;
}

/** The chat page's public URL, without the plugin version (it stays valid across upgrades), with the options. */
function shareUrl(base, video, o) {
  const u = new URL(
    base.replace(/\/[^/]+\/router$/, '/router') + '/webchat/room/' + encodeURIComponent(video.uuid),
    window.location.origin,
  );
  if (o.readonly) u.searchParams.set('_readonly', 'true');
  if (o.readonly && o.transparent) u.searchParams.set('_transparent', 'true');
  return u.href;
}

function checkbox(panel, name, text) {
  const label = document.createElement('label');
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.name = name;
  label.appendChild(input);
  label.appendChild(document.createTextNode(' ' + text));
  panel.appendChild(label);
  return input;
}

function sharePanel(base, video, labels) {
  const panel = document.createElement('div');
  panel.className = 'peertube-plugin-livechat-share';
  panel.hidden = true;
  const readonly = checkbox(panel, 'readonly', labels.readonly);
  const transparent = checkbox(panel, 'transparent', labels.transparent);
  const embed = checkbox(panel, 'embed', labels.embed);
  const out = document.createElement('input');
  out.type = 'text';
  out.readOnly = true;
  out.name = 'share-url';
  panel.appendChild(out);
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'peertube-plugin-livechat-button peertube-plugin-livechat-copy';
  copy.textContent = labels.copy;
  panel.appendChild(copy);
  const open = document.createElement('a');
  open.target = '_blank';
  open.rel = 'noopener';
  open.className = 'peertube-plugin-livechat-button peertube-plugin-livechat-share-open';
  open.textContent = labels.open;
  panel.appendChild(open);
  const update = () => {
    transparent.disabled = !readonly.checked;
    const url = shareUrl(base, video, { readonly: readonly.checked, transparent: transparent.checked });
    open.href = url;
    if (!embed.checked) {
      out.value = url;
      return;
    }
    // The embed code livechat gives: an iframe of the (read-only, for OBS) chat page.
    const frame = document.createElement('iframe');
    frame.setAttribute('src', url);
    frame.setAttribute('title', video.name || 'Chat');
    frame.setAttribute('sandbox', 'allow-same-origin allow-scripts allow-popups allow-forms');
    frame.setAttribute('width', '560');
    frame.setAttribute('height', '315');
    frame.setAttribute('frameborder', '0');
    out.value = frame.outerHTML;
  };
  for (const c of [readonly, transparent, embed]) c.addEventListener('change', update);
  copy.addEventListener('click', () => {
    out.select();
    if (navigator.clipboard) navigator.clipboard.writeText(out.value).catch(() => document.execCommand('copy'));
    else document.execCommand('copy');
  });
  update();
  return panel;
}

function showChat(url, settings, label, share) {
  removeChat();
  const placeholder = document.getElementById('plugin-placeholder-player-next');
  if (!placeholder) return;
  const box = document.createElement('div');
  box.id = 'peertube-plugin-livechat-container';
  if (settings['chat-open-blank'] !== false || share) {
    const bar = document.createElement('div');
    bar.className = 'peertube-plugin-livechat-buttons';
    if (settings['chat-open-blank'] !== false) {
      const open = document.createElement('a');
      open.href = url;
      open.target = '_blank';
      open.rel = 'noopener';
      open.className = 'peertube-plugin-livechat-button peertube-plugin-livechat-open-blank';
      open.textContent = label;
      bar.appendChild(open);
    }
    box.appendChild(bar);
    if (share) {
      const panel = sharePanel(share.base, share.video, share.labels);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'peertube-plugin-livechat-button peertube-plugin-livechat-share-button';
      button.textContent = share.labels.share;
      button.addEventListener('click', () => {
        panel.hidden = !panel.hidden;
      });
      bar.appendChild(button);
      box.appendChild(panel);
    }
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
  const tr = async (t) => (await peertubeHelpers.translate(t)) || t;
  const shareLabels = {
    share: await tr('Share chat link'),
    readonly: await tr('Read-only'),
    transparent: await tr('Transparent background'),
    embed: await tr('Embed (iframe code)'),
    copy: await tr('Copy'),
    open: await tr('Open'),
  };

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
      if (!hasChat(video, settings) || (settings['chat-auto-display'] === false && !video.isLive)) return removeChat();
      const share = mayShare(video, settings) ? { base, video, labels: shareLabels } : null;
      showChat(base + '/webchat/room/' + encodeURIComponent(video.uuid), settings, label, share);
    },
  });
}
