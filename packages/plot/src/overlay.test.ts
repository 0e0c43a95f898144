import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { overlayImages } from './overlay';

describeWithBackends('overlay', () => {
  it('blends (1 − α)·image + α·heat, replicating a gray image to RGB', () => {
    const image = { width: 2, height: 1, channels: 1 as const, data: new Uint8Array([100, 200]) };
    const heat = { width: 2, height: 1, channels: 3 as const, data: new Uint8Array([0, 0, 255, 255, 0, 0]) };
    const blended = overlayImages(image, heat, { alpha: 0.25 });
    // pixel 0: 0.75·100 + 0.25·(0, 0, 255) = (75, 75, 138.75); pixel 1: 0.75·200 + 0.25·(255, 0, 0) = (213.75, 150, 150).
    expect(Array.from(blended.data)).toEqual([75, 75, 139, 214, 150, 150]);
  });

  it('alpha 0 returns the image, alpha 1 the heat map (RGBA alpha ignored)', () => {
    const image = { width: 1, height: 1, channels: 4 as const, data: new Uint8Array([10, 20, 30, 0]) };
    const heat = { width: 1, height: 1, channels: 3 as const, data: new Uint8Array([200, 100, 50]) };
    expect(Array.from(overlayImages(image, heat, { alpha: 0 }).data)).toEqual([10, 20, 30]);
    expect(Array.from(overlayImages(image, heat, { alpha: 1 }).data)).toEqual([200, 100, 50]);
  });

  it('rejects mismatched sizes and alpha outside [0, 1]', () => {
    const a = { width: 2, height: 1, channels: 3 as const, data: new Uint8Array(6) };
    const b = { width: 1, height: 2, channels: 3 as const, data: new Uint8Array(6) };
    expect(() => overlayImages(a, b)).toThrow('overlayImages: image is 2×1 but heat is 1×2');
    expect(() => overlayImages(a, a, { alpha: 1.5 })).toThrow('overlayImages: alpha must be <= 1');
  });
});
