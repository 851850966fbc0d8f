// The avatar art, drawn for this project: each part is a plain SVG shape on a 60×60 canvas, used as a mask (only
// its coverage matters; the colour is chosen per avatar). A set lists the slots an avatar is built from, bottom to
// top; a seed picks one part, one colour and (for some slots) an offset per slot. Art license: same as the code.

export const SIZE = 60;

/** Part name → SVG markup drawn in black on a transparent 60×60 canvas. */
export const PARTS: Record<string, string> = {
  // ---- geometric shapes ----
  'shape.circle': '<circle cx="30" cy="30" r="20"/>',
  'shape.diamond': '<path d="M30 7 L53 30 L30 53 L7 30 Z"/>',
  'shape.triangle': '<path d="M30 8 L54 50 L6 50 Z"/>',
  'shape.hexagon': '<path d="M30 8 L49 19 L49 41 L30 52 L11 41 L11 19 Z"/>',
  'shape.star': '<path d="M30 6 L36 23 L54 23 L40 34 L45 52 L30 41 L15 52 L20 34 L6 23 L24 23 Z"/>',
  'shape.ring':
    '<path fill-rule="evenodd" d="M8 30a22 22 0 1 0 44 0a22 22 0 1 0 -44 0Z M18 30a12 12 0 1 0 24 0a12 12 0 1 0 -24 0Z"/>',
  'shape.square': '<rect x="11" y="11" width="38" height="38" rx="6"/>',
  'mark.dot': '<circle cx="30" cy="30" r="7"/>',
  'mark.dots':
    '<circle cx="22" cy="22" r="4"/><circle cx="38" cy="22" r="4"/><circle cx="22" cy="38" r="4"/><circle cx="38" cy="38" r="4"/>',
  'mark.bar': '<rect x="16" y="27" width="28" height="6" rx="3"/>',
  'mark.cross': '<path d="M27 18h6v9h9v6h-9v9h-6v-9h-9v-6h9z"/>',
  'mark.ring':
    '<path fill-rule="evenodd" d="M21 30a9 9 0 1 0 18 0a9 9 0 1 0 -18 0Z M25 30a5 5 0 1 0 10 0a5 5 0 1 0 -10 0Z"/>',
  'mark.smile': '<path d="M20 33 Q30 44 40 33" stroke="#000" stroke-width="3.5" fill="none" stroke-linecap="round"/>',

  // ---- birds ----
  'bird.crest-tuft': '<path d="M27 18 Q27 6 35 9 Q31 12 33 18 Z"/>',
  'bird.crest-three': '<path d="M23 19 L21 8 L28 15 L30 5 L32 15 L39 8 L37 19 Z"/>',
  'bird.crest-round': '<circle cx="30" cy="15" r="5"/>',
  'bird.body-round': '<circle cx="30" cy="35" r="19"/>',
  'bird.body-egg': '<ellipse cx="30" cy="35" rx="17" ry="21"/>',
  'bird.body-wide': '<ellipse cx="30" cy="37" rx="22" ry="17"/>',
  'bird.belly-low': '<ellipse cx="30" cy="44" rx="11" ry="9"/>',
  'bird.belly-side': '<ellipse cx="33" cy="42" rx="12" ry="11"/>',
  'bird.wing-left': '<path d="M13 36 Q10 50 24 53 Q19 45 21 35 Z"/>',
  'bird.wing-right': '<path d="M47 36 Q50 50 36 53 Q41 45 39 35 Z"/>',
  'bird.eyes-round': '<circle cx="23" cy="30" r="3"/><circle cx="37" cy="30" r="3"/>',
  'bird.eyes-big': '<circle cx="23" cy="29" r="4.2"/><circle cx="37" cy="29" r="4.2"/>',
  'bird.eyes-sleepy':
    '<path d="M19 30 Q23 33 27 30 M33 30 Q37 33 41 30" stroke="#000" stroke-width="2.4" fill="none" stroke-linecap="round"/>',
  'bird.beak-point': '<path d="M25 35 L35 35 L30 43 Z"/>',
  'bird.beak-round': '<ellipse cx="30" cy="37" rx="5" ry="3.5"/>',

  // ---- cats ----
  'cat.ears-pointy': '<path d="M11 28 L15 5 L29 17 Z M49 28 L45 5 L31 17 Z"/>',
  'cat.ears-round': '<circle cx="16" cy="16" r="8"/><circle cx="44" cy="16" r="8"/>',
  'cat.ears-wide': '<path d="M8 26 L6 8 L26 15 Z M52 26 L54 8 L34 15 Z"/>',
  'cat.head-round': '<circle cx="30" cy="35" r="20"/>',
  'cat.head-wide': '<ellipse cx="30" cy="36" rx="23" ry="18"/>',
  'cat.marks-stripes':
    '<rect x="28.5" y="15" width="3" height="9" rx="1.5"/><rect x="22" y="17" width="3" height="7" rx="1.5"/><rect x="35" y="17" width="3" height="7" rx="1.5"/>',
  'cat.marks-patch': '<ellipse cx="21" cy="31" rx="8" ry="7"/>',
  'cat.marks-mask': '<path d="M11 33 Q30 20 49 33 L49 27 Q30 13 11 27 Z"/>',
  'cat.muzzle-round': '<ellipse cx="30" cy="43" rx="10" ry="7"/>',
  'cat.muzzle-heart': '<path d="M19 43 Q24 37 30 41 Q36 37 41 43 Q36 50 30 48 Q24 50 19 43 Z"/>',
  'cat.eyes-round': '<circle cx="22" cy="32" r="3.2"/><circle cx="38" cy="32" r="3.2"/>',
  'cat.eyes-almond': '<ellipse cx="22" cy="32" rx="4.5" ry="2.6"/><ellipse cx="38" cy="32" rx="4.5" ry="2.6"/>',
  'cat.eyes-closed':
    '<path d="M18 33 Q22 29 26 33 M34 33 Q38 29 42 33" stroke="#000" stroke-width="2.4" fill="none" stroke-linecap="round"/>',
  'cat.nose': '<path d="M26.5 39 L33.5 39 L30 43 Z"/>',
  'cat.whiskers':
    '<path d="M4 40 L18 42 M4 47 L18 45 M56 40 L42 42 M56 47 L42 45" stroke="#000" stroke-width="1.6" stroke-linecap="round"/>',

  // ---- abstract (placed with an offset) ----
  'abs.blob-a': '<path d="M30 12 C44 10 50 24 46 34 C42 46 26 50 18 42 C10 34 16 14 30 12 Z"/>',
  'abs.blob-b': '<path d="M14 20 C24 6 44 12 46 24 C48 36 36 40 26 38 C16 36 8 28 14 20 Z"/>',
  'abs.wave': '<path d="M-10 34 Q5 24 20 34 T50 34 T80 34 V46 Q65 36 50 46 T20 46 T-10 46 Z"/>',
  'abs.arc': '<path d="M6 56 A24 24 0 0 1 54 56 L44 56 A14 14 0 0 0 16 56 Z"/>',
  'abs.stripe': '<path d="M-6 46 L46 -6 L62 -6 L62 4 L4 62 L-6 62 Z"/>',
  'abs.half': '<path d="M10 32 A20 20 0 0 1 50 32 Z"/>',
  'abs.ring':
    '<path fill-rule="evenodd" d="M14 30a16 16 0 1 0 32 0a16 16 0 1 0 -32 0Z M22 30a8 8 0 1 0 16 0a8 8 0 1 0 -16 0Z"/>',
  'abs.dot': '<circle cx="30" cy="30" r="9"/>',

  // ---- the bot ----
  'bot.antenna': '<rect x="29" y="6" width="2" height="11"/><circle cx="30" cy="6" r="3.2"/>',
  'bot.ears': '<rect x="7" y="25" width="5" height="11" rx="2"/><rect x="48" y="25" width="5" height="11" rx="2"/>',
  'bot.head': '<rect x="12" y="16" width="36" height="31" rx="7"/>',
  'bot.eyes':
    '<rect x="19" y="24" width="7.5" height="7.5" rx="1.5"/><rect x="33.5" y="24" width="7.5" height="7.5" rx="1.5"/>',
  'bot.mouth': '<rect x="20" y="37" width="20" height="4.5" rx="2.2"/>',
};

export interface Slot {
  parts: readonly string[];
  colors: readonly string[];
  /** Reuse the colour picked for an earlier slot (cat ears match the head). */
  colorOf?: number;
  /** Offsets (px) the part may be moved by, on each axis. */
  shifts?: readonly number[];
}

export interface AvatarSet {
  name: string;
  backgrounds: readonly string[];
  slots: readonly Slot[];
}

const PASTEL = ['#fde2e4', '#e2ece9', '#dfe7fd', '#fff1c1', '#e8dff5', '#d7f2f0', '#fce1c8', '#e4f1d0'];
const BRIGHT = [
  '#e63946',
  '#2a9d8f',
  '#457b9d',
  '#f4a261',
  '#8e44ad',
  '#3a86ff',
  '#ff006e',
  '#06a77d',
  '#ef8354',
  '#5e60ce',
];
const DARK = ['#1d3557', '#264653', '#3d405b', '#2b2d42', '#4a4e69', '#5a3e36'];
const LIGHT = ['#ffffff', '#fefae0', '#f1faee', '#ffe8d6', '#edf6f9'];
const INK = ['#22223b'];
const BEAK = ['#f4a261', '#e9c46a', '#ee6c4d'];
const FUR = ['#f4a261', '#8d8d8d', '#3c3c3c', '#e9d8a6', '#a0522d', '#c9ada7', '#f6bd60', '#6d6875'];
const FUR_MARK = ['#6b4226', '#4a4a4a', '#1f1f1f', '#b08968', '#7f5539'];
const NOSE = ['#e5989b'];

export const SETS: Record<string, AvatarSet> = {
  shapes: {
    name: 'shapes',
    backgrounds: PASTEL,
    slots: [
      {
        parts: [
          'shape.circle',
          'shape.diamond',
          'shape.triangle',
          'shape.hexagon',
          'shape.star',
          'shape.ring',
          'shape.square',
        ],
        colors: BRIGHT,
      },
      {
        parts: ['mark.dot', 'mark.dots', 'mark.bar', 'mark.cross', 'mark.ring', 'mark.smile'],
        colors: [...LIGHT, ...DARK],
      },
    ],
  },
  birds: {
    name: 'birds',
    backgrounds: PASTEL,
    slots: [
      { parts: ['bird.crest-tuft', 'bird.crest-three', 'bird.crest-round'], colors: BRIGHT },
      { parts: ['bird.body-round', 'bird.body-egg', 'bird.body-wide'], colors: BRIGHT },
      { parts: ['bird.belly-low', 'bird.belly-side'], colors: LIGHT },
      { parts: ['bird.wing-left', 'bird.wing-right'], colors: DARK },
      { parts: ['bird.eyes-round', 'bird.eyes-big', 'bird.eyes-sleepy'], colors: INK },
      { parts: ['bird.beak-point', 'bird.beak-round'], colors: BEAK },
    ],
  },
  cats: {
    name: 'cats',
    backgrounds: PASTEL,
    slots: [
      { parts: ['cat.ears-pointy', 'cat.ears-round', 'cat.ears-wide'], colors: FUR },
      { parts: ['cat.head-round', 'cat.head-wide'], colors: FUR, colorOf: 0 },
      { parts: ['cat.marks-stripes', 'cat.marks-patch', 'cat.marks-mask'], colors: FUR_MARK },
      { parts: ['cat.muzzle-round', 'cat.muzzle-heart'], colors: LIGHT },
      { parts: ['cat.eyes-round', 'cat.eyes-almond', 'cat.eyes-closed'], colors: INK },
      { parts: ['cat.nose'], colors: NOSE },
      { parts: ['cat.whiskers'], colors: INK },
    ],
  },
  abstract: {
    name: 'abstract',
    backgrounds: [...PASTEL, ...DARK],
    slots: [0, 1, 2].map(() => ({
      parts: ['abs.blob-a', 'abs.blob-b', 'abs.wave', 'abs.arc', 'abs.stripe', 'abs.half', 'abs.ring', 'abs.dot'],
      colors: BRIGHT,
      shifts: [-12, -6, 0, 6, 12],
    })),
  },
};

/** The one avatar for bots: fixed parts and colours. */
export const BOT: { background: string; layers: Array<{ part: string; color: string }> } = {
  background: '#37474f',
  layers: [
    { part: 'bot.antenna', color: '#ff7043' },
    { part: 'bot.ears', color: '#90a4ae' },
    { part: 'bot.head', color: '#cfd8dc' },
    { part: 'bot.eyes', color: '#00b8d4' },
    { part: 'bot.mouth', color: '#263238' },
  ],
};

export type SetName = keyof typeof SETS;
export const SET_NAMES = Object.keys(SETS) as SetName[];

/** The parts one set (and the bot) needs, so only those are rasterized. */
export function partsOf(set: AvatarSet | undefined): string[] {
  const names = new Set<string>(BOT.layers.map((l) => l.part));
  for (const s of set?.slots ?? []) for (const p of s.parts) names.add(p);
  return [...names];
}

export function partSvg(name: string): string {
  const body = PARTS[name];
  if (body === undefined) throw new Error(`avatar part ${name} is not drawn`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}"><g fill="#000">${body}</g></svg>`;
}
