// PeerTube client script (scope "common"): the channel chat configuration page, /p/livechat/configuration/channel
// ?channelId=N, where a streamer edits their moderation bot, the channel's custom emojis and its moderator team.
// Each section loads from and saves to the plugin's API with the logged-in user's token; what the server refuses is
// shown with its message. The bot section uses livechat's channel options API and is left out when the server does
// not answer it.
const ROUTE = 'livechat/configuration/channel';
// The page's words, translated once at registration through PeerTube (languages/*.json).
const STRINGS = [
  'Chat configuration',
  'Chat configuration of channel',
  'Moderation bot',
  'The bot moderates the chat',
  'Bot nickname',
  'Forbidden words (one per line)',
  'Quotes the bot posts (one per line)',
  'Every (seconds)',
  'Commands (one per line: command = answer)',
  'Saved: the bot follows these settings now.',
  'Not saved:',
  'Custom emojis',
  'Remove',
  'Add',
  'Choose an image and a short name first.',
  'Saved: the chat accepts these emojis now.',
  'Moderator team',
  'Moderator',
  'Owner',
  'Add a moderator',
  'They moderate every chat room of this channel.',
  "Saved: the team moderates the channel's rooms now.",
  'Save',
  'Channel number',
  'Open',
  'Log in to configure the chat of your channels.',
  'You have no channel.',
  'The chat configuration could not load:',
  'username or name@instance',
  'Chat',
];
let L = (s) => s;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function lines(text) {
  return String(text || '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

function makeApi(peertubeHelpers) {
  const base = peertubeHelpers.getBaseRouterRoute().replace(/\/$/, '') + '/api/configuration/channel/';
  return async (method, path, body) => {
    const headers = Object.assign({}, (peertubeHelpers.getAuthHeader && peertubeHelpers.getAuthHeader()) || {});
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      /* no JSON body */
    }
    if (!res.ok) {
      const why = (data && (data.validationErrorMessage || data.error)) || 'HTTP ' + res.status;
      const err = new Error(why);
      err.status = res.status;
      throw err;
    }
    return data;
  };
}

function section(title, cls) {
  const status = el('p', { class: 'livechat-config-status', role: 'status' });
  const body = el('div', { class: 'livechat-config-body' });
  const box = el('section', { class: 'livechat-config-section ' + cls }, el('h2', {}, title), body, status);
  return {
    box,
    body,
    ok(text) {
      status.textContent = text;
      status.className = 'livechat-config-status livechat-config-ok';
    },
    fail(text) {
      status.textContent = text;
      status.className = 'livechat-config-status livechat-config-error';
    },
  };
}

function saveButton(cls, onClick) {
  const b = el(
    'button',
    { type: 'button', class: 'peertube-button orange-button livechat-config-save ' + cls },
    L('Save'),
  );
  b.addEventListener('click', onClick);
  return b;
}

async function botSection(api, id) {
  const s = section(L('Moderation bot'), 'livechat-config-bot');
  let current;
  try {
    current = await api('GET', encodeURIComponent(id));
  } catch (err) {
    if (err.status === 404 || err.status === 405) return null; // the options API is not served here
    s.fail(err.message);
    return s.box;
  }
  const bot = (current.configuration && current.configuration.bot) || {};
  const enabled = el('input', { type: 'checkbox', name: 'bot-enabled', checked: !!bot.enabled });
  const nickname = el('input', { type: 'text', name: 'bot-nickname', value: bot.nickname || '' });
  const words = el('textarea', { name: 'bot-forbidden-words', rows: 4 });
  words.value = ((bot.forbiddenWords || [])[0] || { entries: [] }).entries.join('\n');
  const quotes = el('textarea', { name: 'bot-quotes', rows: 3 });
  quotes.value = ((bot.quotes || [])[0] || { messages: [] }).messages.join('\n');
  const delay = el('input', {
    type: 'number',
    name: 'bot-quote-delay',
    min: 1,
    value: String(((bot.quotes || [])[0] || {}).delay || 300),
  });
  const commands = el('textarea', { name: 'bot-commands', rows: 3 });
  commands.value = (bot.commands || []).map((c) => c.command + ' = ' + c.message).join('\n');
  s.body.append(
    el('label', {}, enabled, ' ' + L('The bot moderates the chat')),
    el('label', {}, L('Bot nickname') + ' ', nickname),
    el('label', {}, L('Forbidden words (one per line)'), words),
    el('label', {}, L('Quotes the bot posts (one per line)'), quotes),
    el('label', {}, L('Every (seconds)') + ' ', delay),
    el('label', {}, L('Commands (one per line: command = answer)'), commands),
    saveButton('livechat-config-bot-save', async () => {
      const next = JSON.parse(JSON.stringify(current.configuration));
      const b = (next.bot = next.bot || {});
      b.enabled = enabled.checked;
      b.nickname = nickname.value.trim() || undefined;
      const first = Object.assign(
        { enabled: true, regexp: false, applyToModerators: false },
        (b.forbiddenWords || [])[0] || {},
      );
      first.entries = lines(words.value);
      b.forbiddenWords = [first].concat((b.forbiddenWords || []).slice(1)).filter((f) => f.entries.length > 0);
      const q = lines(quotes.value);
      b.quotes = q.length
        ? [{ messages: q, delay: Number(delay.value) || 300 }].concat((b.quotes || []).slice(1))
        : (b.quotes || []).slice(1);
      b.commands = lines(commands.value).map((l) => {
        const i = l.indexOf('=');
        return {
          command: (i < 0 ? l : l.slice(0, i)).trim().replace(/^!/, ''),
          message: i < 0 ? '' : l.slice(i + 1).trim(),
        };
      });
      try {
        current = await api('POST', encodeURIComponent(id), next);
        s.ok(L('Saved: the bot follows these settings now.'));
      } catch (err) {
        s.fail(L('Not saved:') + ' ' + err.message);
      }
    }),
  );
  return s.box;
}

async function emojiSection(api, id) {
  const s = section(L('Custom emojis'), 'livechat-config-emojis');
  let list = [];
  const rows = el('ul', { class: 'livechat-config-emoji-list' });
  function draw() {
    rows.replaceChildren(
      ...list.map((e, i) => {
        const sn = el('input', { type: 'text', name: 'emoji-sn', value: e.sn });
        sn.addEventListener('input', () => {
          e.sn = sn.value;
        });
        const remove = el('button', { type: 'button', class: 'livechat-config-remove' }, L('Remove'));
        remove.addEventListener('click', () => {
          list.splice(i, 1);
          draw();
        });
        return el(
          'li',
          { class: 'livechat-config-emoji' },
          el('img', { src: e.url, alt: e.sn, width: 24, height: 24 }),
          sn,
          remove,
        );
      }),
    );
  }
  const file = el('input', { type: 'file', name: 'emoji-file', accept: 'image/png,image/jpeg,image/gif' });
  const newSn = el('input', { type: 'text', name: 'emoji-new-sn', placeholder: ':name:' });
  const add = el('button', { type: 'button', class: 'livechat-config-emoji-add' }, L('Add'));
  add.addEventListener('click', () => {
    const f = file.files && file.files[0];
    if (!f || !newSn.value.trim()) return s.fail(L('Choose an image and a short name first.'));
    const reader = new FileReader();
    reader.onload = () => {
      list.push({ sn: newSn.value.trim(), url: String(reader.result) });
      newSn.value = '';
      file.value = '';
      draw();
    };
    reader.readAsDataURL(f);
  });
  s.body.append(
    rows,
    el('div', { class: 'livechat-config-emoji-new' }, newSn, file, add),
    saveButton('livechat-config-emojis-save', async () => {
      try {
        const r = await api('POST', 'emojis/' + encodeURIComponent(id), { customEmojis: list });
        list = r.emojis.customEmojis;
        draw();
        s.ok(L('Saved: the chat accepts these emojis now.'));
      } catch (err) {
        s.fail(L('Not saved:') + ' ' + err.message);
      }
    }),
  );
  try {
    list = (await api('GET', 'emojis/' + encodeURIComponent(id))).emojis.customEmojis;
    draw();
  } catch (err) {
    s.fail(err.message);
  }
  return s.box;
}

async function teamSection(api, id) {
  const s = section(L('Moderator team'), 'livechat-config-team');
  let team = [];
  const rows = el('ul', { class: 'livechat-config-team-list' });
  function draw() {
    rows.replaceChildren(
      ...team.map((m, i) => {
        const user = el('input', {
          type: 'text',
          name: 'team-user',
          value: m.user,
          placeholder: L('username or name@instance'),
        });
        user.addEventListener('input', () => {
          m.user = user.value;
        });
        const role = el(
          'select',
          { name: 'team-role' },
          el('option', { value: 'admin' }, L('Moderator')),
          el('option', { value: 'owner' }, L('Owner')),
        );
        role.value = m.role;
        role.addEventListener('change', () => {
          m.role = role.value;
        });
        const remove = el('button', { type: 'button', class: 'livechat-config-remove' }, L('Remove'));
        remove.addEventListener('click', () => {
          team.splice(i, 1);
          draw();
        });
        return el('li', { class: 'livechat-config-member' }, user, role, remove);
      }),
    );
  }
  const add = el('button', { type: 'button', class: 'livechat-config-team-add' }, L('Add a moderator'));
  add.addEventListener('click', () => {
    team.push({ user: '', role: 'admin' });
    draw();
  });
  s.body.append(
    el('p', {}, L('They moderate every chat room of this channel.')),
    rows,
    add,
    saveButton('livechat-config-team-save', async () => {
      try {
        team = (await api('POST', 'team/' + encodeURIComponent(id), { team })).team;
        draw();
        s.ok(L("Saved: the team moderates the channel's rooms now."));
      } catch (err) {
        s.fail(L('Not saved:') + ' ' + err.message);
      }
    }),
  );
  try {
    team = (await api('GET', 'team/' + encodeURIComponent(id))).team;
    draw();
  } catch (err) {
    s.fail(err.message);
  }
  return s.box;
}

async function mount(rootEl, peertubeHelpers) {
  const api = makeApi(peertubeHelpers);
  const id = new URLSearchParams(window.location.search).get('channelId') || '';
  const root = el('div', { class: 'livechat-config' });
  rootEl.replaceChildren(root);
  if (!/^\d+$/.test(id)) {
    const input = el('input', { type: 'number', name: 'channel-id', min: 1 });
    const go = el('button', { type: 'button' }, L('Open'));
    go.addEventListener('click', () => {
      window.location.search = '?channelId=' + encodeURIComponent(input.value);
    });
    root.append(el('h1', {}, L('Chat configuration')), el('label', {}, L('Channel number') + ' ', input), go);
    return;
  }
  root.append(el('h1', {}, L('Chat configuration of channel') + ' ' + id));
  const parts = await Promise.all([botSection(api, id), emojiSection(api, id), teamSection(api, id)]);
  for (const p of parts) if (p) root.append(p);
  root.dataset.ready = 'true';
}

// The home page (/p/livechat/configuration): the logged-in user's channels, from PeerTube's REST API, each linking
// to its configuration page.
async function mountHome(rootEl, peertubeHelpers) {
  const root = el('div', { class: 'livechat-config' }, el('h1', {}, L('Chat configuration')));
  rootEl.replaceChildren(root);
  let username = null;
  try {
    username = window.localStorage.getItem('username');
  } catch (e) {
    /* storage disabled */
  }
  if (!username) {
    root.append(el('p', {}, L('Log in to configure the chat of your channels.')));
    return;
  }
  const headers = (peertubeHelpers.getAuthHeader && peertubeHelpers.getAuthHeader()) || {};
  const res = await fetch(
    '/api/v1/accounts/' + encodeURIComponent(username) + '/video-channels?start=0&count=100&sort=name',
    { headers },
  );
  const data = res.ok ? await res.json() : null;
  const channels = data && Array.isArray(data.data) ? data.data : [];
  if (!channels.length) root.append(el('p', {}, L('You have no channel.')));
  root.append(
    el(
      'ul',
      { class: 'livechat-config-channels' },
      ...channels.map((c) =>
        el(
          'li',
          {},
          el(
            'a',
            { href: '/p/' + ROUTE + '?channelId=' + encodeURIComponent(c.id) },
            c.displayName || c.name || 'channel ' + c.id,
          ),
        ),
      ),
    ),
  );
  root.dataset.ready = 'true';
}

function failed(rootEl) {
  return (err) => {
    rootEl.textContent = L('The chat configuration could not load:') + ' ' + err.message;
  };
}

export async function register({ registerClientRoute, registerHook, peertubeHelpers }) {
  if (typeof registerClientRoute !== 'function') return;
  const settings = peertubeHelpers.getSettings ? await peertubeHelpers.getSettings() : {};
  if (settings && settings['disable-channel-configuration'] === true) return;
  if (typeof peertubeHelpers.translate === 'function') {
    const dict = {};
    await Promise.all(
      STRINGS.map(async (w) => {
        try {
          dict[w] = (await peertubeHelpers.translate(w)) || w;
        } catch (e) {
          dict[w] = w;
        }
      }),
    );
    L = (w) => dict[w] || w;
  }
  // livechat's page addresses, so its links and bookmarks keep working.
  registerClientRoute({
    route: 'livechat/configuration',
    title: L('Chat configuration'),
    onMount: ({ rootEl }) => {
      mountHome(rootEl, peertubeHelpers).catch(failed(rootEl));
    },
  });
  for (const route of [ROUTE, 'livechat/configuration/emojis']) {
    registerClientRoute({
      route,
      title: L('Chat configuration'),
      onMount: ({ rootEl }) => {
        mount(rootEl, peertubeHelpers).catch(failed(rootEl));
      },
    });
  }
  // A "Chat configuration" entry in the left menu's library section, for logged-in users (as livechat adds it).
  if (typeof registerHook === 'function') {
    registerHook({
      target: 'filter:left-menu.links.create.result',
      handler: (links) => {
        if (!Array.isArray(links) || !(peertubeHelpers.isLoggedIn && peertubeHelpers.isLoggedIn())) return links;
        const library = links.find(
          (l) => l && (l.key === 'in-my-library' || l.key === 'my-video-space') && Array.isArray(l.links),
        );
        if (library)
          library.links.unshift({
            label: L('Chat configuration'),
            shortLabel: L('Chat'),
            path: '/p/livechat/configuration',
            icon: 'live',
          });
        return links;
      },
    });
  }
}
