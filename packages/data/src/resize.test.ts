import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from './__fixtures__/datasets';
import { padTo } from './pad';
import { resize, resizeImage } from './resize';

describeWithBackends('resizeImage', () => {
  it('shrinks by 3 with the widened triangle filter (weights worked out by hand)', () => {
    // Output 0: centre 1.5, weights 2/3, 1, 2/3, 1/3 on inputs 0..3 (sum 8/3): (0·2/3 + 60 + 120·2/3 + 180/3)·3/8 = 75.
    // Output 1: centre 4.5, weights 1/3, 2/3, 1, 2/3 on inputs 2..5: (40 + 120 + 240 + 170)·3/8 = 213.75 → 214.
    const image = Uint8Array.of(0, 60, 120, 180, 240, 255);
    expect([...resizeImage({ image, height: 1, width: 6, channels: 1, targetHeight: 1, targetWidth: 2 })]).toEqual([
      75, 214,
    ]);
  });

  it('enlarges by 2 as half-pixel bilinear with clamped edges', () => {
    const image = Uint8Array.of(0, 100);
    expect([...resizeImage({ image, height: 1, width: 2, channels: 1, targetHeight: 1, targetWidth: 4 })]).toEqual([
      0, 25, 75, 100,
    ]);
    // Same along the vertical axis, channels kept apart.
    const column = Uint8Array.of(0, 200, 100, 0);
    expect([
      ...resizeImage({ image: column, height: 2, width: 1, channels: 2, targetHeight: 4, targetWidth: 1 }),
    ]).toEqual([0, 200, 25, 150, 75, 50, 100, 0]);
  });

  it('keeps a constant image constant (96×96 → 32×32) and keeps labels and indices', () => {
    const dataset = randomDataset({ count: 2, height: 96, width: 96, channels: 3, numClasses: 10 });
    dataset.images.fill(77);
    const small = resize({ dataset, height: 32, width: 32 });
    expect([small.height, small.width, small.images.length]).toEqual([32, 32, 2 * 32 * 32 * 3]);
    expect(small.images.every((v) => v === 77)).toBe(true);
    expect([...small.labels]).toEqual([...dataset.labels]);
  });

  it('rejects bad sizes', () => {
    expectThrowsWith(
      () =>
        resizeImage({ image: new Uint8Array(4), height: 2, width: 2, channels: 1, targetHeight: 0, targetWidth: 2 }),
      'resizeImage',
      'targetHeight',
    );
    const dataset = randomDataset({ count: 1, height: 4, width: 4, channels: 1, numClasses: 1 });
    expectThrowsWith(() => resize({ dataset, height: 2.5, width: 2 }), 'resize', 'options.height', 'integer');
  });
});

describeWithBackends('padTo', () => {
  it('centres the image in zeros (2×2 → 4×5: top 1, left 1)', () => {
    const dataset = {
      ...randomDataset({ count: 1, height: 2, width: 2, channels: 1, numClasses: 1 }),
      images: Uint8Array.of(1, 2, 3, 4),
    };
    const padded = padTo({ dataset, height: 4, width: 5 });
    expect([...padded.images]).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('pads 28×28 to 32×32 with 2 pixels on every side', () => {
    const dataset = randomDataset({ count: 2, height: 28, width: 28, channels: 1, numClasses: 10 });
    const padded = padTo({ dataset, height: 32, width: 32 });
    expect(padded.images[1 * 1024 + 2 * 32 + 2]).toBe(dataset.images[784]);
    expect(padded.images[1 * 1024 + 29 * 32 + 29]).toBe(dataset.images[784 + 27 * 28 + 27]);
    expect(padded.images[1 * 1024 + 1 * 32 + 5]).toBe(0);
    expectThrowsWith(() => padTo({ dataset, height: 20, width: 32 }), 'padTo', 'smaller');
  });
});
