import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { colorizeHeatMap, eigenCam, measureText, renderLinePlot, resizeHeatMap } from './index';

/** Every function that takes an options object rejects a misspelt key, naming the function, the key and the closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected with a did-you-mean', () => {
    const activations = tf.randomUniform([4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const map = { width: 2, height: 2, data: Float32Array.of(0, 0.5, 0.5, 1) };
    try {
      const cases: Array<[() => unknown, string]> = [
        [() => eigenCam(activations, { signCorection: false } as never), "eigenCam: unknown option 'signCorection', did you mean 'signCorrection'?"],
        [() => eigenCam(activations, { maxIteration: 10 } as never), "eigenCam: unknown option 'maxIteration', did you mean 'maxIterations'?"],
        [() => colorizeHeatMap(map, { colormap: 'jet' } as never), "colorizeHeatMap: unknown option 'colormap', did you mean 'colorMap'?"],
        [() => resizeHeatMap(map, { width: 4, heigth: 4 } as never), "resizeHeatMap: unknown option 'heigth', did you mean 'height'?"],
        [() => renderLinePlot({ series: [{ name: 'a', points: [[0, 1], [1, 2]] }], titel: 'x' } as never),
          "renderLinePlot: unknown option 'titel', did you mean 'title'?"],
        [() => measureText('kd', { scael: 2 } as never), "measureText: unknown option 'scael', did you mean 'scale'?"],
      ];
      for (const [call, message] of cases) expect(call).toThrow(message);
    } finally {
      activations.dispose();
    }
  });
});
