import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeWithBackends, expectArraysClose, expectThrowsWith } from '@kd/test-utils';
import { FASHION_MNIST_DIR, randomDataset } from './__fixtures__/datasets';
import { FASHION_MNIST_CLASS_NAMES, decodeIdxDataset } from './idx';
import { FASHION_MNIST_NORMALIZATION, computeNormalization, normalizeImages } from './normalization';

describeWithBackends('normalisation', () => {
  it('computes per-channel mean and population std of x/255 (plain loop reference)', () => {
    const dataset = randomDataset({ count: 5, height: 3, width: 2, channels: 3, numClasses: 2 });
    const { mean, std } = computeNormalization({ dataset });
    for (let c = 0; c < 3; c++) {
      const values = [...dataset.images].filter((_, i) => i % 3 === c).map((v) => v / 255);
      const m = values.reduce((a, b) => a + b, 0) / values.length;
      const s = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
      expect(mean[c]).toBeCloseTo(m, 12);
      expect(std[c]).toBeCloseTo(s, 12);
    }
  });

  it('normalises x to (x/255 − mean_c)/std_c', () => {
    const out = normalizeImages({
      images: Uint8Array.of(0, 255, 51, 102),
      channels: 2,
      normalization: { mean: [0.5, 0.1], std: [0.25, 0.5] },
    });
    expectArraysClose(out, [-2, 1.8, (0.2 - 0.5) / 0.25, (0.4 - 0.1) / 0.5]);
    expectThrowsWith(
      () => normalizeImages({ images: Uint8Array.of(1, 2, 3), channels: 2 }),
      'normalizeImages',
      'channels',
    );
  });

  it.skipIf(!existsSync(new URL('train-images-idx3-ubyte.gz', FASHION_MNIST_DIR)))(
    'FASHION_MNIST_NORMALIZATION matches the real training split to 4 decimals',
    () => {
      const read = (name: string) => ({ bytes: new Uint8Array(readFileSync(new URL(name, FASHION_MNIST_DIR))), name });
      const dataset = decodeIdxDataset({
        images: read('train-images-idx3-ubyte.gz'),
        labels: read('train-labels-idx1-ubyte.gz'),
        classNames: FASHION_MNIST_CLASS_NAMES,
      });
      const { mean, std } = computeNormalization({ dataset });
      expect(Math.abs(mean[0]! - FASHION_MNIST_NORMALIZATION.mean[0]!)).toBeLessThan(5e-5);
      expect(Math.abs(std[0]! - FASHION_MNIST_NORMALIZATION.std[0]!)).toBeLessThan(5e-5);
    },
  );
});
