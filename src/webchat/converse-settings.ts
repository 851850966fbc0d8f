// ConverseJS 14 settings for a live-stream chat, following what PeerTube livechat learned in production:
// anonymous login, one auto-joined room and nothing else, light on the server (no chat states, no
// markers, lazy vCards) and on the browser (pruned history, no media embedding, no sounds).
import type { PageOptions } from './page-options.js';

export interface ConverseSettingsInput {
  assetsPath: string;
  anonymousHost: string;
  roomJid: string;
  websocketUrl?: string;
  boshUrl?: string;
  options: PageOptions;
  /** Messages kept in the DOM; older ones are dropped while the user is scrolled to the bottom. */
  pruneMessagesAbove: number;
  loglevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

/** Room status codes worth a line in the chat; joins and leaves are noise in a busy live chat. */
const INFO_MESSAGES_FULL = [
  '100',
  '102',
  '103',
  '172',
  '173',
  '174', // visibility changes
  '110', // self-presence
  '104',
  '201', // non-privacy changes
  '170',
  '171', // logging changes
  '210',
  '303', // nickname assigned / changed
  '301',
  '307',
  '321',
  '322',
  '332',
  '333', // bans, kicks, removals
  'owner',
  'admin',
  'member',
  'exadmin',
  'exowner',
  'exoutcast',
  'exmember', // affiliation changes
  'op',
  'deop',
  'voice',
  'mute', // role changes
];
/** An overlay only needs to know it was disconnected. */
const INFO_MESSAGES_READONLY = ['301', '307', '321', '322', '332', '333'];

/**
 * Plugins a single-room anonymous chat never uses. Only UI or opt-in plugins that nothing else depends on:
 * blacklisting a core dependency would break initialization.
 */
const BLACKLISTED_PLUGINS = [
  'converse-omemo',
  'converse-omemo-views',
  'converse-register',
  'converse-push',
  'converse-adhoc',
  'converse-adhoc-views',
  'converse-bookmark-views',
  'converse-roomslist',
  'converse-rosterview',
  'converse-headlines-view',
  'converse-dragresize',
  'converse-minimize',
  'converse-notification',
];

export function buildConverseSettings(i: ConverseSettingsInput): Record<string, unknown> {
  const readonly = i.options.readonly !== false;
  const settings: Record<string, unknown> = {
    assets_path: i.assetsPath,
    loglevel: i.loglevel,

    // Connection: anonymous SASL on anon.<domain>; WebSocket first, BOSH when it fails (converse switches
    // transport itself on connection failure when both URLs are set). No XEP-0156 host-meta lookup.
    authentication: 'anonymous',
    jid: i.anonymousHost,
    auto_login: true,
    auto_reconnect: true,
    discover_connection_methods: false,
    keepalive: true,
    persistent_store: 'sessionStorage',
    // XEP-0198: ConverseJS asks the server for an ack after every 5 stanzas it sends by default; a joining viewer
    // sends ~105 (its occupants' vCards), each request a frame the server reads and answers in the join storm. Every
    // 20 is a quarter of them; the page keeps its unacknowledged stanzas (at most ~20 more) in session storage and
    // still resends them all on resumption.
    smacks_max_unacked_stanzas: 20,
    clear_cache_on_logout: true,
    allow_user_trust_override: false,
    ping_interval: 25,

    // One room, full page, nothing around it.
    auto_join_rooms: [i.roomJid],
    singleton: true,
    view_mode: 'fullscreen',
    show_controlbox_by_default: false,
    show_background: false,
    allow_logout: false,
    show_client_info: false,
    allow_adhoc_commands: false,
    allow_contact_requests: false,
    allow_bookmarks: false,
    allow_muc_invitations: false,
    muc_instant_rooms: true,
    // Anonymous JIDs are random strings: ask for a nickname rather than deriving one from the JID.
    muc_nickname_from_jid: false,
    auto_register_muc_nickname: false,
    // Show the room's recent messages above the nickname form, so a viewer sees the chat before joining.
    muc_show_logs_before_join: true,
    muc_show_info_messages: readonly ? INFO_MESSAGES_READONLY : INFO_MESSAGES_FULL,
    hide_muc_participants: i.options.hideParticipants || readonly,
    muc_mention_autocomplete_min_chars: 2,
    muc_mention_autocomplete_filter: 'contains',

    // Server and browser load: no typing notifications or read markers to fan out, vCards fetched only
    // when an avatar is on screen, a bounded DOM.
    send_chat_state_notifications: false,
    send_chat_markers: [],
    lazy_load_vcards: true,
    prune_messages_above: i.pruneMessagesAbove,
    pruning_behavior: 'unscrolled',

    // Nothing fetched on behalf of message content (privacy, and images larger than an iframe).
    render_media: false,
    embed_3rd_party_media_players: false,
    fetch_url_headers: false,
    play_sounds: false,
    show_desktop_notifications: false,
    show_tab_notifications: false,

    allow_message_corrections: 'all',
    allow_message_retraction: 'all',
    show_retraction_warning: false,
    colorize_username: true,
    visible_toolbar_buttons: { call: false, spoiler: false, emoji: true, toggle_occupants: true },

    whitelisted_plugins: [],
    blacklisted_plugins: BLACKLISTED_PLUGINS,
  };
  if (i.websocketUrl) settings.websocket_url = i.websocketUrl;
  if (i.boshUrl) settings.bosh_service_url = i.boshUrl;
  return settings;
}
