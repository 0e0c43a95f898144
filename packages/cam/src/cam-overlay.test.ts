import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { camOverlay } from './cam-overlay';

describeWithBackends('camOverlay', () => {
  it('resizes, colours (jet) and blends in one call', () => {
    const image = { width: 2, height: 2, channels: 3 as const, data: new Uint8Array(12).fill(100) };
    const picture = camOverlay(image, { width: 1, height: 1, data: new Float32Array([1]) }, { alpha: 0.5 });
    // jet(1) = (128, 0, 0) everywhere: 0.5·100 + 0.5·(128, 0, 0) = (114, 50, 50).
    expect(Array.from(picture.data)).toEqual([114, 50, 50, 114, 50, 50, 114, 50, 50, 114, 50, 50]);
  });

  it('uses the requested colour map; alpha 1 shows the heat map alone', () => {
    const image = { width: 2, height: 1, channels: 1 as const, data: new Uint8Array([7, 9]) };
    const map = { width: 2, height: 1, data: new Float32Array([0, 1]) };
    const picture = camOverlay(image, map, { colorMap: 'viridis', alpha: 1 });
    // viridis(0) = #440154, viridis(1) = #FDE725 (the first and last control points).
    expect(Array.from(picture.data)).toEqual([0x44, 0x01, 0x54, 0xfd, 0xe7, 0x25]);
  });

  it('rejects a misspelt option and a malformed map, naming camOverlay', () => {
    const image = { width: 1, height: 1, channels: 3 as const, data: new Uint8Array(3) };
    const map = { width: 1, height: 1, data: new Float32Array([0.5]) };
    expect(() => camOverlay(image, map, { colormap: 'jet' } as never)).toThrow(
      "camOverlay: unknown option 'colormap', did you mean 'colorMap'?",
    );
    expect(() => camOverlay(image, { width: 2, height: 1, data: new Float32Array(1) })).toThrow(
      'camOverlay: map.data has 1 values, width·height = 2',
    );
  });
});
