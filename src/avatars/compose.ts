// Composing an avatar: a seed picks one part, colour and offset per slot of a set; the parts' coverage masks
// (rasterized from SVG at build time, see masks.ts) are layered bottom to top into palette indices. Edge pixels that a part only half
// covers get the half-way colour between it and what lies beneath, so shapes stay smooth with a tiny palette.
import { createHash } from 'node:crypto';
import { SIZE, type AvatarSet } from './art.js';
import { encodeIndexedPng } from './png.js';

export interface Layer {
  part: string;
  color: string;
  dx: number;
  dy: number;
}
export interface Design {
  key: string;
  background: string;
  layers: Layer[];
}

/** Coverage (0–255) per pixel of each rasterized part. */
export type Masks = ReadonlyMap<string, Uint8Array>;

/** The design a seed gets in a set: stable for a given seed, set and art. */
export function designFor(set: AvatarSet, seed: string): Design {
  const bytes = createHash('sha256').update(set.name).update('\0').update(seed).digest();
  let i = 0;
  const pick = (n: number): number => {
    // two bytes per choice: every list here is far shorter than 65,536, so the bias is negligible
    const v = bytes.readUInt16BE(i % 30);
    i += 2;
    return v % n;
  };
  const choices: number[] = [];
  const background = set.backgrounds[pick(set.backgrounds.length)];
  choices.push(set.backgrounds.indexOf(background));
  const colors: string[] = [];
  const layers: Layer[] = [];
  for (const slot of set.slots) {
    const p = pick(slot.parts.length);
    const c = slot.colorOf !== undefined ? -1 : pick(slot.colors.length);
    const color = slot.colorOf !== undefined ? colors[slot.colorOf] : slot.colors[c];
    const dx = slot.shifts ? slot.shifts[pick(slot.shifts.length)] : 0;
    const dy = slot.shifts ? slot.shifts[pick(slot.shifts.length)] : 0;
    colors.push(color);
    choices.push(p, c, dx, dy);
    layers.push({ part: slot.parts[p], color, dx, dy });
  }
  return { key: `${set.name}:${choices.join('.')}`, background, layers };
}

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
const boxes = new WeakMap<Uint8Array, Box>();

/** The smallest rectangle holding every pixel of a mask that drawing changes (coverage ≥ 60), end-exclusive. */
function boxOf(mask: Uint8Array): Box {
  let box = boxes.get(mask);
  if (!box) {
    box = { x0: SIZE, y0: SIZE, x1: 0, y1: 0 };
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        if (mask[y * SIZE + x] < 60) continue;
        box.x0 = Math.min(box.x0, x);
        box.y0 = Math.min(box.y0, y);
        box.x1 = Math.max(box.x1, x + 1);
        box.y1 = Math.max(box.y1, y + 1);
      }
    }
    boxes.set(mask, box);
  }
  return box;
}

/** Renders a design to a palette PNG (60×60). Throws if a part's mask is missing. */
export function renderDesign(design: Design, masks: Masks): Buffer {
  const palette: Array<[number, number, number]> = [];
  const index = new Map<string, number>();
  const colorIndex = (c: [number, number, number]): number => {
    const k = c.join(',');
    let i = index.get(k);
    if (i === undefined) {
      i = palette.length;
      palette.push(c);
      index.set(k, i);
    }
    return i;
  };
  const blends = new Map<number, number>();
  const blend = (under: number, over: number): number => {
    const k = under * 256 + over;
    let i = blends.get(k);
    if (i === undefined) {
      const a = palette[under],
        b = palette[over];
      i = colorIndex([(a[0] + b[0]) >> 1, (a[1] + b[1]) >> 1, (a[2] + b[2]) >> 1]);
      blends.set(k, i);
    }
    return i;
  };
  const pixels = new Uint8Array(SIZE * SIZE).fill(colorIndex(rgb(design.background)));
  for (const layer of design.layers) {
    const mask = masks.get(layer.part);
    if (!mask) throw new Error(`avatar part ${layer.part} is not rasterized`);
    const ci = colorIndex(rgb(layer.color));
    // Only the part's own box, shifted and clipped to the image: most parts cover a small corner of it.
    const box = boxOf(mask);
    const y0 = Math.max(0, box.y0 + layer.dy),
      y1 = Math.min(SIZE, box.y1 + layer.dy);
    const x0 = Math.max(0, box.x0 + layer.dx),
      x1 = Math.min(SIZE, box.x1 + layer.dx);
    for (let y = y0; y < y1; y++) {
      const src = (y - layer.dy) * SIZE - layer.dx;
      for (let x = x0; x < x1; x++) {
        const a = mask[src + x];
        if (a >= 170) pixels[y * SIZE + x] = ci;
        else if (a >= 60) pixels[y * SIZE + x] = blend(pixels[y * SIZE + x], ci);
      }
    }
  }
  return encodeIndexedPng(SIZE, SIZE, pixels, palette);
}
