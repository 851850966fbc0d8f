// The browser-side boot script, served as a content-hashed asset (the page's CSP allows no inline script).
// It reads the settings the server rendered into a JSON data block, adapts them to where the page runs
// (absolute WebSocket URL, iframe, OBS overlay) and starts ConverseJS. Kept as a string so `tsc` builds
// carry it without a copy step. Loaded as a module after converse.min.js (itself an ES module), so both
// run in document order once the page is parsed.
export const BOOT_JS = String.raw`(function () {
  'use strict';
  var dataEl = document.getElementById('webchat-config');
  if (!dataEl || !window.converse) {
    document.body.classList.add('webchat-failed');
    return;
  }
  var cfg = JSON.parse(dataEl.textContent || '{}');
  var settings = cfg.settings || {};
  var body = document.body;

  // Strophe treats only ws:/wss: URLs as WebSocket, so a path like /xmpp-websocket is made absolute here,
  // on the scheme and host the page was loaded from (wss behind an https reverse proxy).
  function absolute(url, scheme) {
    if (!url) return url;
    var u = new URL(url, window.location.href);
    if (scheme === 'ws') u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
    return u.href;
  }
  if (settings.websocket_url) settings.websocket_url = absolute(settings.websocket_url, 'ws');
  if (settings.bosh_service_url) settings.bosh_service_url = absolute(settings.bosh_service_url, 'http');
  if (!('WebSocket' in window) && settings.bosh_service_url) delete settings.websocket_url;

  var inIframe;
  try { inIframe = window.self !== window.top; } catch (e) { inIframe = true; }
  if (inIframe) body.classList.add('webchat-iframe');
  // Focusing a composer inside an iframe would scroll the embedding page to the chat.
  settings.auto_focus = !inIframe && !cfg.readonly;

  if (cfg.readonly) {
    body.classList.add('webchat-readonly');
    if (cfg.readonly === 'noscroll') body.classList.add('webchat-noscroll');
    // An overlay never types, so it joins under a generated name instead of prompting for one.
    settings.nickname = 'Viewer ' + Date.now().toString(36);
    // OBS browser sources keep state between scenes; start from a clean session every time.
    try { window.sessionStorage.clear(); } catch (e) { /* storage disabled */ }
  }
  if (cfg.transparent) body.classList.add('webchat-transparent');

  // Avatars by URL. The server puts each occupant's avatar hash in its presence (XEP-0153) and serves the PNG at
  // <avatars>/<hash>.png with immutable caching. Left alone, ConverseJS would send one vCard iq per occupant on
  // screen (and refetch the room's vCard for every presence carrying a hash); this plugin answers those lookups
  // from the hash URL instead, through the browser's HTTP cache, and keeps ConverseJS's avatar rendering.
  function avatarPlugin(base) {
    var prefix = base.replace(/\/$/, '') + '/';
    window.converse.plugins.add('webchat-avatars', {
      initialize: function () {
        var _converse = this._converse;
        var api = _converse.api;
        if (!api || !api.vcard || !api.vcard.update) { console.warn('webchat: no vCard API, avatars by URL off'); return; }
        var original = api.vcard.update.bind(api.vcard);
        var images = {};
        var roomsAsked = {};
        function load(hash) {
          if (!images[hash]) {
            images[hash] = fetch(prefix + hash + '.png', { credentials: 'omit' }).then(function (r) {
              if (!r.ok) throw new Error('HTTP ' + r.status);
              return r.arrayBuffer();
            }).then(function (buf) {
              var bytes = new Uint8Array(buf), bin = '';
              for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
              return btoa(bin);
            });
            images[hash].catch(function () { delete images[hash]; });
          }
          return images[hash];
        }
        function rooms() {
          var boxes = _converse.state && _converse.state.chatboxes;
          return boxes ? boxes.filter(function (b) { return b.get('type') === 'chatroom'; }) : [];
        }
        // The occupant a vCard JID stands for: room/nick, or (moderators see real JIDs) an occupant's real JID.
        function occupantOf(jid) {
          var slash = jid.indexOf('/');
          var bare = slash < 0 ? jid : jid.slice(0, slash);
          var list = rooms();
          for (var i = 0; i < list.length; i++) {
            var muc = list[i];
            if (muc.get('jid') === bare && slash >= 0) {
              return muc.occupants.findWhere({ nick: jid.slice(slash + 1) }) || null;
            }
            var hit = muc.occupants.find(function (o) {
              var real = o.get('jid');
              return real && (real === jid || real.split('/')[0] === bare) && o.get('image_hash');
            });
            if (hit) return hit;
          }
          return null;
        }
        function isRoom(jid) { return rooms().some(function (m) { return m.get('jid') === jid; }); }
        function show(vcard, hash) {
          if (!vcard || vcard.get('image_hash') === hash) return Promise.resolve(vcard || null);
          return load(hash).then(function (b64) {
            vcard.save({ image: b64, image_type: 'image/png', image_hash: hash, vcard_updated: new Date().toISOString() });
            return vcard;
          });
        }
        var anonymous = settings.authentication === 'anonymous';
        api.vcard.update = function (model, force) {
          var jid = typeof model === 'string' ? model : model && model.get('jid');
          if (!jid) return original(model, force);
          var vcard = typeof model === 'string' ? (_converse.state.vcards && _converse.state.vcards.get(jid)) : model;
          var occupant = occupantOf(jid);
          if (occupant) {
            var hash = occupant.get('image_hash');
            if (!hash) return Promise.resolve(vcard || null); // no avatar advertised (yet): nothing to ask for
            return show(vcard, hash).catch(function () { return original(model, force); });
          }
          // An anonymous viewer's own avatar is the one the room gives it (below), not a vCard round trip.
          if (anonymous && _converse.session && jid === _converse.session.get('bare_jid')) return Promise.resolve(vcard || null);
          if (typeof model === 'string' && isRoom(jid)) {
            if (roomsAsked[jid]) return Promise.resolve(vcard || null);
            roomsAsked[jid] = true;
          }
          return original(model, force);
        };
        // One's own occupant is drawn with the profile's vCard: give it the avatar the room advertises.
        api.listen.on('chatRoomInitialized', function (muc) {
          function own(o) {
            if (!anonymous || o.get('nick') !== muc.get('nick') || !o.get('image_hash')) return;
            var profile = _converse.state.profile;
            show(profile && profile.vcard, o.get('image_hash')).catch(function () { /* initials stay */ });
          }
          muc.listenTo(muc.occupants, 'add', own);
          muc.listenTo(muc.occupants, 'change:image_hash', own);
          muc.listenTo(muc, 'change:nick', function () { muc.occupants.forEach(own); });
        });
      },
    });
    settings.whitelisted_plugins = (settings.whitelisted_plugins || []).concat(['webchat-avatars']);
  }
  if (cfg.avatars) {
    try { avatarPlugin(cfg.avatars); } catch (err) { console.error('webchat: avatar plugin failed', err); }
  }
  // Pinned message, viewer counter and temporary bans (client/moderation.ts, concatenated before this script).
  if (typeof webchatModeration === 'function') {
    try { webchatModeration(cfg, settings); } catch (err) { console.error('webchat: moderation plugin failed', err); }
  }

  function start() {
    try {
      window.converse.initialize(settings);
    } catch (err) {
      body.classList.add('webchat-failed');
      console.error('webchat: ConverseJS failed to start', err);
    }
  }

  // A PeerTube user logged in on this origin chats under their account: the host's auth URL trades the session
  // token (kept by PeerTube's web client in localStorage) for XMPP credentials. Anyone else stays anonymous.
  function login(next) {
    var token = null;
    try { token = window.localStorage.getItem('access_token'); } catch (e) { /* storage disabled */ }
    if (!cfg.authUrl || cfg.readonly || !token) return next();
    var type = 'Bearer';
    try { type = window.localStorage.getItem('token_type') || 'Bearer'; } catch (e) { /* storage disabled */ }
    fetch(cfg.authUrl, { headers: { Authorization: type + ' ' + token }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (creds) {
        if (creds && creds.jid && creds.password) {
          settings.authentication = 'login';
          settings.jid = creds.jid;
          settings.password = creds.password;
          if (creds.nickname) settings.nickname = creds.nickname;
          settings.muc_nickname_from_jid = true;
        }
      }, function () { /* stay anonymous */ })
      .then(next);
  }

  // BOSH fallback. ConverseJS only switches transport after a connection that once worked fails; when the
  // WebSocket handshake itself is refused (a proxy without upgrade support) it retries the WebSocket forever.
  // So when both are configured, one handshake decides first; it is closed as soon as it opens.
  login(connect);
  function connect() {
    if (!settings.websocket_url || !settings.bosh_service_url) return start();
    var decided = false;
    function decide(useWebSocket) {
      if (decided) return;
      decided = true;
      if (!useWebSocket) {
        console.warn('webchat: WebSocket unavailable, using BOSH');
        delete settings.websocket_url;
      }
      start();
    }
    var probe;
    try {
      probe = new WebSocket(settings.websocket_url, 'xmpp');
    } catch (e) {
      return decide(false);
    }
    var timer = setTimeout(function () { try { probe.close(); } catch (e) { /* closing */ } decide(false); }, 5000);
    probe.onopen = function () { clearTimeout(timer); probe.close(1000); decide(true); };
    probe.onerror = function () { clearTimeout(timer); decide(false); };
    probe.onclose = function () { clearTimeout(timer); decide(false); };
  }
})();
`;
