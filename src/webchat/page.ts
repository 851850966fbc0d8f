// The chat page's HTML: two stylesheets, two deferred scripts, and the settings as inert JSON.
import type { AssetUrls } from './assets.js';
import type { PageOptions } from './page-options.js';

export interface PageInput {
  title: string;
  /** Absolute URL path of the assets directory, ending in '/'. */
  assetsBase: string;
  assets: AssetUrls;
  settings: Record<string, unknown>;
  options: PageOptions;
  lang?: string;
  /** Where a logged-in user's XMPP credentials come from (see WebchatOptions.authUrl). */
  authUrl?: string;
  /** Avatars by hash, for the boot script's avatar plugin. */
  avatarsUrl?: string;
  /** Durations (seconds) moderators are offered for a temporary ban. */
  banDurations?: number[];
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot close its <script> element or open a comment, whatever strings the settings hold. */
function jsonForScriptBlock(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderPage(p: PageInput): string {
  const a = (name: string) => escapeHtml(p.assetsBase + name);
  const config = {
    settings: p.settings,
    readonly: p.options.readonly,
    transparent: p.options.transparent,
    avatars: p.avatarsUrl,
    authUrl: p.authUrl,
    moderation: { banDurations: p.banDurations },
  };
  const bodyClass = ['converse-fullscreen'];
  if (p.options.transparent) bodyClass.push('webchat-transparent');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(p.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(p.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${a(p.assets.converseCss)}">
<link rel="stylesheet" href="${a(p.assets.bootCss)}">
<script type="module" src="${a(p.assets.converseJs)}"></script>
<script type="module" src="${a(p.assets.bootJs)}"></script>
</head>
<body class="${bodyClass.join(' ')}">
<noscript><p class="webchat-noscript">This chat needs JavaScript.</p></noscript>
<p class="webchat-failed-note">The chat could not start. Please reload the page.</p>
<script type="application/json" id="webchat-config">${jsonForScriptBlock(config)}</script>
</body>
</html>
`;
}
