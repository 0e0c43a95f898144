import { describeWithBackends, expectArraysClose, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { avgPool2d, globalAvgPool, maxPool2d } from './pooling';

// One channel, 3×3: 1 … 9 row by row.
const grid = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

describeWithBackends('pooling', () => {
  it('avgPool2d with padding counts the zero padding in the divisor (PyTorch count_include_pad)', () => {
    tf.tidy(() => {
      const x = grid();
      const y = avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
      // Output 2×2; window (0,0) covers rows/cols −1…1: (1+2+4+5)/9; (0,1): cols 1…3 → (2+3+5+6)/9; etc.
      expect(y.shape).toEqual([1, 2, 2, 1]);
      expectArraysClose(y.dataSync(), [12 / 9, 16 / 9, 24 / 9, 28 / 9]);
      tf.dispose([x, y]);
    });
  });

  it('avgPool2d ceil mode adds overhanging windows that average only what they cover', () => {
    tf.tidy(() => {
      const x = grid();
      const y = avgPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true });
      expect(y.shape).toEqual([1, 2, 2, 1]);
      expectArraysClose(y.dataSync(), [(1 + 2 + 4 + 5) / 4, (3 + 6) / 2, (7 + 8) / 2, 9]);
      const floor = avgPool2d(x, { kernelSize: 2, stride: 2 });
      expect(floor.shape).toEqual([1, 1, 1, 1]);
      tf.dispose([x, y, floor]);
    });
  });

  it('maxPool2d and globalAvgPool', () => {
    tf.tidy(() => {
      const x = tf.tensor4d([1, -1, 5, 0, 2, 3, -4, 8], [1, 2, 2, 2]);
      const max = maxPool2d(x, { kernelSize: 2 });
      expectArraysClose(max.dataSync(), [5, 8]);
      const mean = globalAvgPool(x);
      expect(mean.shape).toEqual([1, 2]);
      expectArraysClose(mean.dataSync(), [(1 + 5 + 2 - 4) / 4, (-1 + 0 + 3 + 8) / 4]);
      tf.dispose([x, max, mean]);
    });
  });

  it('ceil mode refuses padding', () => {
    tf.tidy(() => {
      const x = grid();
      expect(() => avgPool2d(x, { kernelSize: 2, padding: 1, ceilMode: true })).toThrow(
        /avgPool2d: ceilMode is only supported with padding 0/,
      );
      x.dispose();
    });
  });
});
