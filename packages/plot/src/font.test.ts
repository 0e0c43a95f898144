import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { drawText, fontCharacters, glyph, GLYPH_HEIGHT, GLYPH_WIDTH, measureText } from './font';
import { createImage } from './image';

describeWithBackends('bitmap font', () => {
  it('covers A–Z, a–z, 0–9 and punctuation, every glyph 7 rows × 5 cells, all distinct', () => {
    const required = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;-_+=/()[]%!?λ×';
    for (const character of required) expect(fontCharacters).toContain(character);
    const seen = new Map<string, string>();
    for (const character of fontCharacters) {
      const cells = glyph(character);
      expect(cells.length).toBe(GLYPH_HEIGHT);
      cells.forEach((row) => expect(row.length).toBe(GLYPH_WIDTH));
      const key = cells.map((row) => row.map((on) => (on ? '#' : '.')).join('')).join('/');
      if (character !== ' ') expect(seen.get(key), `'${character}' duplicates '${seen.get(key)}'`).toBeUndefined();
      seen.set(key, character);
    }
  });

  it('measures (6·length − 1)·scale by 7·scale', () => {
    expect(measureText('ab', { scale: 2 })).toEqual({ width: 22, height: 14 });
    expect(measureText('')).toEqual({ width: 0, height: 7 });
  });

  it('draws the glyph bitmap at the given position and colour, clipped to the image', () => {
    const image = createImage(8, 9, 3, [255, 255, 255]);
    drawText(image, 'T', { x: 1, y: 1, color: [10, 20, 30] });
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 8; x++) {
        const ink = y >= 1 && y < 8 && x >= 1 && x < 6 && glyph('T')[y - 1]![x - 1]!;
        const offset = (y * 8 + x) * 3;
        expect(Array.from(image.data.subarray(offset, offset + 3))).toEqual(ink ? [10, 20, 30] : [255, 255, 255]);
      }
    }
    drawText(image, 'WWWW', { x: -3, y: 5, scale: 2 }); // partly outside: must not throw
  });

  it('draws a hollow box for characters it lacks (visible, not silently dropped)', () => {
    const box = glyph('€');
    expect(box[0]!.every(Boolean)).toBe(true);
    expect(box[3]).toEqual([true, false, false, false, true]);
  });
});
