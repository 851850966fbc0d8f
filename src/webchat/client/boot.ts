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
