import { describeWithBackends, expectArraysClose, seededRandom, tf, valuesOf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { resizeHeatMap } from './resize';

describeWithBackends('resizeHeatMap', () => {
  it('upsamples 2×2 → 4×4 with half-pixel centres (values worked by hand)', () => {
    // Source x for output x = 0..3: −0.25 → 0 (clamped), 0.25, 0.75, 1.25 → 1 (clamped); same for y.
    const map = resizeHeatMap({ width: 2, height: 2, data: new Float32Array([0, 1, 2, 3]) }, { width: 4, height: 4 });
    expect(Array.from(map.data)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
  });

  it('is the identity at the same size and keeps a constant map constant', () => {
    const data = new Float32Array([0.1, 0.7, 0.3, 0.9, 0.5, 0.2]);
    expect(Array.from(resizeHeatMap({ width: 3, height: 2, data }, { width: 3, height: 2 }).data)).toEqual(
      Array.from(data),
    );
    const constant = resizeHeatMap(
      { width: 2, height: 3, data: new Float32Array(6).fill(0.4) },
      { width: 7, height: 5 },
    );
    expectArraysClose(constant.data, new Array(35).fill(0.4));
  });

  it('agrees with tf.image.resizeBilinear(halfPixelCenters = true) for up- and downsampling', () => {
    const random = seededRandom(5);
    const data = Float32Array.from({ length: 5 * 6 }, () => random());
    for (const [width, height] of [
      [13, 11],
      [3, 2],
    ] as const) {
      const ours = resizeHeatMap({ width: 6, height: 5, data }, { width, height });
      const theirs = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor4d(data, [1, 5, 6, 1]), [height, width], false, true),
      );
      expectArraysClose(ours.data, valuesOf(theirs), { atol: 1e-6 });
    }
  });

  it('rejects bad sizes and malformed maps', () => {
    const map = { width: 2, height: 2, data: new Float32Array(4) };
    expect(() => resizeHeatMap(map, { width: 0, height: 2 })).toThrow('resizeHeatMap: width must be > 0');
    expect(() => resizeHeatMap({ width: 2, height: 2, data: new Float32Array(3) }, { width: 2, height: 2 })).toThrow(
      'resizeHeatMap: map.data has 3 values, width·height = 4',
    );
  });
});
