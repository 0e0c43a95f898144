/**
 * A built-in 5×7 bitmap font (ASCII letters, digits, common punctuation, λ and ×) for labels, titles and tick
 * labels. Lowercase descenders are squeezed into the 7 rows, as on HD44780 character displays.
 */
import { assertKnownOptions } from '@kd/internal';
import { assertNumber } from './validate';
import { assertImage, type RasterImage, type Rgb } from './image';

/** Glyph width and height in font pixels; characters advance by width + 1, lines by height + 2. */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

// Each glyph: 7 rows of 5 cells, '#' = ink.
const glyphRows: Record<string, string> = {
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... #.##. ##..# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.',
  d: '....# ....# .##.# #..## #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... ..... .#### #...# .#### ....# .###.',
  h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #...# #...#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# ####. #.... #....',
  q: '..... ..... .##.# #..## .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .###. #.... .###. ....# ####.',
  t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  ';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
  '-': '..... ..... ..... ##### ..... ..... .....',
  _: '..... ..... ..... ..... ..... ..... #####',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '\\': '..... #.... .#... ..#.. ...#. ....# .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '"': '.#.#. .#.#. .#.#. ..... ..... ..... .....',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#.. .....',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  '~': '..... ..... .#... #.#.# ...#. ..... .....',
  λ: '#.... .#... .#... ..#.. .#.#. #...# #...#',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
};

/** Drawn for characters the font lacks: a hollow box, so a missing glyph is visible rather than silently dropped. */
const MISSING_GLYPH = '##### #...# #...# #...# #...# #...# #####';

/** The characters the font can draw. */
export const fontCharacters: string = Object.keys(glyphRows).join('');

/** The glyph of `character` as 7 rows of 5 booleans (ink = true); unknown characters give a hollow box. */
export function glyph(character: string): boolean[][] {
  const rows = (glyphRows[character] ?? MISSING_GLYPH).split(' ');
  return rows.map((row) => Array.from(row, (cell) => cell === '#'));
}

export interface TextOptions {
  /** Integer magnification (each font pixel becomes scale × scale pixels). Default 1. */
  scale?: number;
}

/** Pixel size of `text` on one line: width = (6·length − 1)·scale, height = 7·scale (0 × 7·scale when empty). */
export function measureText(text: string, options: TextOptions = {}): { width: number; height: number } {
  assertKnownOptions('measureText', options, ['scale']);
  const { scale = 1 } = options;
  assertNumber('measureText', 'scale', scale, { integer: true, positive: true });
  const length = Array.from(text).length;
  return { width: length === 0 ? 0 : (length * (GLYPH_WIDTH + 1) - 1) * scale, height: GLYPH_HEIGHT * scale };
}

export interface DrawTextOptions extends TextOptions {
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
  /** Ink colour, default black. */
  color?: Rgb;
}

/**
 * Draws one line of text into `image` in place (pixels outside the image are clipped). Alpha is set opaque on
 * RGBA images; gray images get the colour's mean.
 *
 * @example
 * drawText(canvas, 'MCMI teacher', { x: 4, y: 4, color: [0, 0, 0], scale: 2 });
 */
export function drawText(image: RasterImage, text: string, options: DrawTextOptions): void {
  const fn = 'drawText';
  assertImage(fn, 'image', image);
  assertKnownOptions(fn, options, ['scale', 'x', 'y', 'color']);
  if (typeof text !== 'string') throw new Error(`${fn}: text must be a string, got ${typeof text}`);
  const x = assertNumber(fn, 'x', options?.x, { integer: true });
  const y = assertNumber(fn, 'y', options?.y, { integer: true });
  const scale = assertNumber(fn, 'scale', options.scale ?? 1, { integer: true, positive: true });
  const color = options.color ?? [0, 0, 0];
  const ink = image.channels === 1 ? [Math.round((color[0] + color[1] + color[2]) / 3)] : [...color, 255];
  let cursor = x;
  for (const character of text) {
    const cells = glyph(character);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let column = 0; column < GLYPH_WIDTH; column++) {
        if (!cells[row]?.[column]) continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const px = cursor + column * scale + dx;
            const py = y + row * scale + dy;
            if (px < 0 || py < 0 || px >= image.width || py >= image.height) continue;
            const offset = (py * image.width + px) * image.channels;
            for (let channel = 0; channel < image.channels; channel++)
              image.data[offset + channel] = ink[channel] as number;
          }
        }
      }
    }
    cursor += (GLYPH_WIDTH + 1) * scale;
  }
}
