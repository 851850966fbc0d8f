// The browser side of this server's moderation extensions, as a ConverseJS plugin in the page's boot asset (the
// page's CSP allows no inline script). It shows, above the chat, what the room sends everyone:
// - the pinned message (urn:livechat-xmpp:muc-pin:0 <pinned>/<unpinned> notices from the room JID), with an
//   "Unpin" button for moderators; moderators get "Pin" in each message's action menu;
// - the viewer counter (urn:livechat-xmpp:muc-occupant-count:0 <occupants total anonymous/>);
// and gives owners and admins "Ban for <duration>" entries in each occupant's menu (a muc#admin ban carrying
// <expires xmlns='urn:livechat-xmpp:muc-temporary-ban:0' seconds/>). Buttons appear only when the room advertises
// the feature in disco#info, so the page stays plain ConverseJS against another server.
// Kept as a string, concatenated before BOOT_JS into one module: `webchatModeration` is module-scoped.
export const MODERATION_JS = String.raw`var webchatModeration = function (cfg, settings) {
  'use strict';
  var PIN = 'urn:livechat-xmpp:muc-pin:0';
  var BAN = 'urn:livechat-xmpp:muc-temporary-ban:0';
  var COUNT = 'urn:livechat-xmpp:muc-occupant-count:0';
  var ADMIN = 'http://jabber.org/protocol/muc#admin';
  var durations = (cfg.moderation && cfg.moderation.banDurations) || [600, 3600, 86400];
  var roomJid = String((settings.auto_join_rooms || [])[0] || '').toLowerCase();
  var readonly = !!cfg.readonly;

  function label(seconds) {
    if (seconds < 60) return seconds + ' s';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min';
    if (seconds < 86400 * 2) return Math.round(seconds / 3600) + ' h';
    return Math.round(seconds / 86400) + ' days';
  }
  function child(el, name, ns) {
    for (var c = el.firstElementChild; c; c = c.nextElementSibling) {
      if (c.localName === name && (!ns || c.namespaceURI === ns || c.getAttribute('xmlns') === ns)) return c;
    }
    return null;
  }
  function make(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  // The banner strip above the chat; its height is published so the chat area moves down by as much.
  var bar = make('div', 'webchat-banners');
  bar.id = 'webchat-banners';
  var counter = make('div', 'webchat-counter');
  counter.setAttribute('role', 'status');
  var pinned = make('div', 'webchat-pinned');
  var pinLabel = make('span', 'webchat-pinned__label', 'Pinned');
  var pinAuthor = make('span', 'webchat-pinned__author');
  var pinText = make('span', 'webchat-pinned__text');
  var unpin = make('button', 'webchat-pinned__unpin', 'Unpin');
  unpin.type = 'button';
  pinned.append(pinLabel, pinAuthor, pinText, unpin);
  var notice = make('div', 'webchat-notice');
  notice.setAttribute('role', 'alert');
  counter.hidden = pinned.hidden = notice.hidden = true;
  bar.append(counter, pinned, notice);
  document.body.insertBefore(bar, document.body.firstChild);
  function publishHeight() {
    document.documentElement.style.setProperty('--webchat-banner-height', bar.offsetHeight + 'px');
  }
  if (window.ResizeObserver) new ResizeObserver(publishHeight).observe(bar);
  publishHeight();
  var noticeTimer = null;
  function say(text) {
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.hidden = true; }, 8000);
  }

  var pinnedId = null;
  function showPinned(el) {
    var fwd = child(el, 'forwarded', 'urn:xmpp:forward:0');
    var msg = fwd && child(fwd, 'message');
    var body = msg && child(msg, 'body');
    var from = (msg && msg.getAttribute('from')) || '';
    pinnedId = el.getAttribute('id');
    pinAuthor.textContent = from.indexOf('/') >= 0 ? from.slice(from.indexOf('/') + 1) : '';
    pinText.textContent = body ? body.textContent : '';
    pinned.hidden = false;
  }
  function showCount(el) {
    var total = Number(el.getAttribute('total')) || 0;
    var anon = Number(el.getAttribute('anonymous')) || 0;
    counter.textContent = total + (total === 1 ? ' viewer' : ' viewers') + ', ' + anon + ' anonymous';
    counter.hidden = false;
  }

  window.converse.plugins.add('webchat-moderation', {
    initialize: function () {
      var _converse = this._converse;
      var api = _converse.api;
      var $iq = window.converse.env.$iq;
      var handler = null;
      var features = {};

      function room() {
        var boxes = _converse.state && _converse.state.chatboxes;
        return boxes ? boxes.get(roomJid) : null;
      }
      function supports(ns) {
        var key = ns + ' ' + roomJid;
        if (!features[key]) {
          features[key] = Promise.resolve(api.disco.supports(ns, roomJid)).then(Boolean, function () { return false; });
          features[key].then(function (ok) { if (!ok) delete features[key]; });
        }
        return features[key];
      }
      function isModerator(muc) { return !!muc && muc.getOwnRole() === 'moderator'; }
      function isAdmin(muc) { var a = muc && muc.getOwnAffiliation(); return a === 'owner' || a === 'admin'; }
      function refreshUnpin() { unpin.hidden = readonly || !isModerator(room()); }

      function onMessage(stanza) {
        if (String(stanza.getAttribute('from') || '').toLowerCase() !== roomJid) return true;
        var c = child(stanza, 'occupants', COUNT);
        if (c) showCount(c);
        var p = child(stanza, 'pinned', PIN);
        if (p) { showPinned(p); refreshUnpin(); }
        var u = child(stanza, 'unpinned', PIN);
        if (u && (!pinnedId || u.getAttribute('id') === pinnedId)) { pinned.hidden = true; pinnedId = null; }
        return true;
      }
      // Strophe drops its handlers when a connection is reset: add ours again whenever it is gone. What the room
      // showed before is forgotten: rejoining sends the pinned message and the counter again if they still apply.
      function attach() {
        var conn = api.connection.get();
        if (!conn) return;
        pinned.hidden = counter.hidden = true;
        pinnedId = null;
        if (handler && (conn.handlers.indexOf(handler) >= 0 || conn.addHandlers.indexOf(handler) >= 0)) return;
        handler = conn.addHandler(onMessage, null, 'message', 'groupchat');
      }
      api.listen.on('connected', attach);
      api.listen.on('reconnected', attach);

      function iqError(what) {
        return function (err) {
          var cond = err && err.querySelector ? err.querySelector('error > *') : null;
          say(what + (cond ? ' (' + cond.localName + ')' : ''));
        };
      }
      unpin.addEventListener('click', function () {
        api.sendIQ($iq({ type: 'set', to: roomJid }).c('unpin', { xmlns: PIN })).catch(iqError('Could not unpin the message'));
      });

      api.listen.on('getMessageActionButtons', function (el, buttons) {
        var m = el.model;
        var muc = m && m.collection && m.collection.chatbox;
        if (readonly || !muc || muc.get('jid') !== roomJid || !isModerator(muc)) return buttons;
        var id = m.get('stanza_id ' + roomJid);
        if (!id || m.get('retracted') || m.get('moderated')) return buttons;
        return supports(PIN).then(function (ok) {
          if (ok) {
            buttons.push({
              i18n_text: 'Pin',
              handler: function (ev) {
                if (ev) ev.preventDefault();
                api.sendIQ($iq({ type: 'set', to: roomJid }).c('pin', { xmlns: PIN, id: id })).catch(iqError('Could not pin the message'));
              },
              button_class: 'chat-msg__action-pin',
              icon_class: 'fa fa-thumbtack',
              name: 'pin',
            });
          }
          return buttons;
        });
      });

      api.listen.on('getOccupantActionButtons', function (o, buttons) {
        var muc = o.collection && o.collection.chatroom;
        if (readonly || !muc || muc.get('jid') !== roomJid || !isAdmin(muc)) return buttons;
        var aff = o.get('affiliation');
        if (o.get('nick') === muc.get('nick') || aff === 'owner' || aff === 'admin') return buttons;
        return supports(BAN).then(function (ok) {
          if (!ok) return buttons;
          durations.forEach(function (seconds) {
            buttons.push({
              i18n_text: 'Ban for ' + label(seconds),
              handler: function (ev) {
                if (ev) ev.preventDefault();
                var jid = o.get('jid');
                var nick = o.get('nick');
                // Semi-anonymous rooms show real JIDs to moderators; without one there is nobody to ban.
                if (!jid) return say('Cannot ban ' + nick + ': their address is not visible to you');
                var iq = $iq({ type: 'set', to: roomJid }).c('query', { xmlns: ADMIN })
                  .c('item', { jid: jid.split('/')[0], affiliation: 'outcast' })
                  .c('reason').t('Banned for ' + label(seconds)).up()
                  .c('expires', { xmlns: BAN, seconds: String(seconds) });
                api.sendIQ(iq).then(function () { say(nick + ' is banned for ' + label(seconds)); }, iqError('Could not ban ' + nick));
              },
              button_class: 'webchat-ban webchat-ban-' + seconds,
              icon_class: 'fa fa-ban',
              name: 'ban-' + seconds,
            });
          });
          return buttons;
        });
      });

      // Occupant menus are drawn once per occupant: when our own rights change, draw them again.
      api.listen.on('chatRoomInitialized', function (muc) {
        if (muc.get('jid') !== roomJid) return;
        muc.listenTo(muc.occupants, 'change:role change:affiliation', function (occ) {
          if (occ.get('nick') !== muc.get('nick')) return;
          refreshUnpin();
          muc.occupants.forEach(function (x) { if (x !== occ) x.trigger('change', x); });
        });
      });
    },
  });
  settings.whitelisted_plugins = (settings.whitelisted_plugins || []).concat(['webchat-moderation']);
};
`;
