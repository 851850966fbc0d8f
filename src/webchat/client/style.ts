// Page CSS on top of converse.min.css, served as a content-hashed asset. Body classes are set by the
// boot script from the page options.
export const WEBCHAT_CSS = `html, body { height: 100%; margin: 0; }
body { overflow: hidden; }
body.webchat-iframe { overflow-x: hidden; }

/* Until ConverseJS renders, and if it cannot start at all. */
.webchat-noscript, .webchat-failed-note { font: 15px/1.4 system-ui, sans-serif; padding: 1em; }
.webchat-failed-note { display: none; }
body.webchat-failed .webchat-failed-note { display: block; }

/* _readonly=true: an overlay shows messages only. */
body.webchat-readonly converse-muc-bottom-panel,
body.webchat-readonly .bottom-panel,
body.webchat-readonly converse-muc-heading,
body.webchat-readonly .chat-head,
body.webchat-readonly converse-muc-sidebar,
body.webchat-readonly .occupants { display: none !important; }
body.webchat-noscroll .chat-content__messages,
body.webchat-noscroll .chat-content { overflow: hidden !important; scrollbar-width: none; }

/* _transparent=true: let the video show through (OBS browser source, overlays). */
body.webchat-transparent,
body.webchat-transparent converse-root,
body.webchat-transparent #conversejs,
body.webchat-transparent .conversejs,
body.webchat-transparent .conversejs .flyout,
body.webchat-transparent .conversejs .chatbox,
body.webchat-transparent .conversejs .chat-body,
body.webchat-transparent .conversejs .chat-content,
body.webchat-transparent .conversejs .chat-content__messages,
body.webchat-transparent .conversejs .chat-msg,
body.webchat-transparent .conversejs .chat-head {
  background: transparent !important;
  --background-color: transparent;
  --global-background-color: transparent;
}

/* Pinned message, viewer counter and moderation notices (client/moderation.ts) above the chat, which moves down. */
.webchat-banners { position: fixed; top: 0; left: 0; right: 0; z-index: 1040;
  font: 14px/1.35 system-ui, sans-serif; background: var(--background-color, #fff); color: var(--foreground-color, #222); }
.webchat-banners > div { padding: 0.3em 0.8em; border-bottom: 1px solid rgba(128, 128, 128, 0.35); }
.webchat-banners > div[hidden] { display: none; }
.webchat-counter { font-size: 12px; opacity: 0.8; }
.webchat-pinned { display: flex; gap: 0.5em; align-items: baseline; }
.webchat-pinned__label { font-weight: 600; }
.webchat-pinned__author { font-weight: 600; }
.webchat-pinned__author:empty { display: none; }
.webchat-pinned__text { flex: 1 1 auto; overflow-wrap: anywhere; }
.webchat-pinned__unpin { flex: none; font: inherit; font-size: 12px; cursor: pointer; }
.webchat-pinned__unpin[hidden] { display: none; }
.webchat-notice { background: #fff3cd; color: #533f03; }
body.converse-fullscreen converse-chats.converse-chatboxes { top: var(--webchat-banner-height, 0px) !important; }
body.webchat-transparent .webchat-banners { background: transparent; }
`;
