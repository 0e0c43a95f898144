import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@kd/internal';
import { BatchNorm2d, VariableStore } from '@kd/models';
import { seededRandom } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { describeWasmVsCpu, relativeError, tf } from '../test/helpers';
import { WASM_TRAINING_KERNEL_NAMES } from './register';

interface BatchNormStep {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  kernels: string[];
}

/**
 * Two training-mode steps of a BatchNorm2d on `backend` (the running statistics compound), with γ, β and the
 * running statistics away from their defaults, inputs centred at `offset`, and the loss Σ y·w for a fixed
 * random w so that every gradient term matters. Returns the second step's output, gradients, running
 * statistics and the kernels it ran.
 */
async function batchNormStep(
  backend: 'cpu' | 'wasm',
  shape: [number, number, number, number],
  offset: number,
): Promise<BatchNormStep> {
  await tf.setBackend(backend);
  const channels = shape[3];
  const random = seededRandom(shape.reduce((a, b) => a * 31 + b, 7));
  const values = (count: number, scale: number, shift: number) =>
    Float32Array.from({ length: count }, () => shift + scale * (2 * random() - 1));
  const size = shape.reduce((a, b) => a * b, 1);
  const xValues = values(size, 3, offset);
  const weights = values(size, 1, 0);
  const store = new VariableStore(0);
  const bn = new BatchNorm2d(store.scope('bn'), { channels, momentum: 0.3, epsilon: 1e-3 });
  const x = tf.tidy(() => tf.variable(tf.tensor4d(xValues, shape)));
  const w = tf.tensor4d(weights, shape);
  try {
    tf.tidy(() => {
      bn.gamma.assign(tf.tensor1d(values(channels, 1, 1.5)));
      bn.beta.assign(tf.tensor1d(values(channels, 1, 0)));
      bn.runningMean.assign(tf.tensor1d(values(channels, 1, 0.5)));
      bn.runningVar.assign(tf.tensor1d(values(channels, 0.5, 2)));
      bn.apply(x, true);
    });
    let result: Omit<BatchNormStep, 'kernels'> | undefined;
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        let y: tf.Tensor | undefined;
        const { grads } = tf.variableGrads(() => {
          y = tf.keep(bn.apply(x, true));
          return tf.sum(tf.mul(y, w));
        }, [x, bn.gamma, bn.beta]);
        result = {
          y: Float32Array.from(y!.dataSync()),
          dx: Float32Array.from(grads[x.name]!.dataSync()),
          dGamma: Float32Array.from(grads[bn.gamma.name]!.dataSync()),
          dBeta: Float32Array.from(grads[bn.beta.name]!.dataSync()),
          runningMean: Float32Array.from(bn.runningMean.dataSync()),
          runningVar: Float32Array.from(bn.runningVar.dataSync()),
        };
        y!.dispose();
      });
    });
    if (result === undefined) throw new Error('batchNormStep: no result');
    return { ...result, kernels: profile.kernels.map((kernel) => kernel.name) };
  } finally {
    tf.dispose([x, w]);
    store.dispose();
    await tf.setBackend('cpu');
  }
}

describeWasmVsCpu('fused training-mode batch norm on wasm', () => {
  it('registers under the names @kd/models calls', () => {
    expect(WASM_TRAINING_KERNEL_NAMES).toContain(BATCH_NORM_TRAINING_KERNEL);
    expect(WASM_TRAINING_KERNEL_NAMES).toContain(BATCH_NORM_TRAINING_GRAD_KERNEL);
    expect(tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'cpu')).toBeUndefined();
  });

  // Odd sizes, a single position per image, one channel, many channels, and inputs centred far from 0
  // (where a one-pass variance without a shift cancels).
  const cases: Array<{ shape: [number, number, number, number]; offset: number }> = [
    { shape: [3, 5, 7, 11], offset: 0 },
    { shape: [2, 1, 3, 2], offset: 0.5 },
    { shape: [1, 3, 1, 1], offset: -2 },
    { shape: [5, 1, 1, 33], offset: 1 },
    { shape: [2, 9, 7, 13], offset: 30 },
  ];
  for (const { shape, offset } of cases) {
    it(`equals the composition on cpu to 1e-5: forward, gradients, running statistics (shape [${shape}], inputs around ${offset})`, async () => {
      const composed = await batchNormStep('cpu', shape, offset);
      const fused = await batchNormStep('wasm', shape, offset);
      // The wasm step ran the fused kernels, the cpu step the composition.
      expect(fused.kernels).toContain(BATCH_NORM_TRAINING_KERNEL);
      expect(fused.kernels).toContain(BATCH_NORM_TRAINING_GRAD_KERNEL);
      expect(fused.kernels).not.toContain('FusedBatchNorm');
      expect(composed.kernels).toContain('FusedBatchNorm');
      for (const key of ['y', 'dx', 'dGamma', 'dBeta', 'runningMean', 'runningVar'] as const) {
        expect(fused[key].length, key).toBe(composed[key].length);
        expect(relativeError(fused[key], composed[key]), key).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it('rejects a rank-3 input and a single value per channel with errors naming the kernel', async () => {
    await tf.setBackend('wasm');
    const inputs = (shape: number[]) => ({
      x: tf.zeros(shape),
      scale: tf.ones([2]),
      offset: tf.zeros([2]),
      runningMean: tf.zeros([2]),
      runningVariance: tf.ones([2]),
    });
    for (const [shape, message] of [
      [[2, 3, 2], 'KdBatchNormTraining (@kd/wasm-training): x must be rank 4 [N,H,W,C], got shape [2,3,2]'],
      [[1, 1, 1, 2], 'KdBatchNormTraining (@kd/wasm-training): training mode needs more than one value per channel'],
      [[2, 2, 2, 3], 'KdBatchNormTraining (@kd/wasm-training): scale must have shape [3], got [2]'],
    ] as const) {
      const tensors = inputs([...shape]);
      expect(() =>
        tf.engine().runKernel(BATCH_NORM_TRAINING_KERNEL, tensors, { epsilon: 1e-5, momentum: 0.1 }),
      ).toThrow(message);
      tf.dispose(Object.values(tensors));
    }
    await tf.setBackend('cpu');
  });
});
