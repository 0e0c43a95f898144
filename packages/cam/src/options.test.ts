import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { camOverlay, eigenCam } from './index';

/** Every function that takes an options object rejects a misspelt key, naming the function, the key and the
 * closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected with a did-you-mean', () => {
    const activations = tf.randomUniform([4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const map = { width: 2, height: 2, data: Float32Array.of(0, 0.5, 0.5, 1) };
    const image = { width: 2, height: 2, channels: 3 as const, data: new Uint8Array(12) };
    try {
      const cases: Array<[string, () => unknown, string, string]> = [
        ['eigenCam', () => eigenCam(activations, { signCorection: false } as never), 'signCorection', 'signCorrection'],
        ['eigenCam', () => eigenCam(activations, { maxIteration: 10 } as never), 'maxIteration', 'maxIterations'],
        ['camOverlay', () => camOverlay(image, map, { alpah: 0.5 } as never), 'alpah', 'alpha'],
      ];
      for (const [fn, call, key, closest] of cases) {
        expect(call).toThrow(`${fn}: unknown option '${key}', did you mean '${closest}'?`);
      }
    } finally {
      activations.dispose();
    }
  });
});
