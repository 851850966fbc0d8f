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
`;
