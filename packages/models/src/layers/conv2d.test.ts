import { describeWithBackends, expectArraysClose, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { referenceConv2d } from '../../test/reference-ops';
import { VariableStore } from '../variable-store';
import { Conv2d, type Conv2dOptions } from './conv2d';

function checkAgainstLoops(options: Conv2dOptions, inputShape: [number, number, number, number]): void {
  const store = new VariableStore(5);
  const conv = new Conv2d(store.scope('conv'), options);
  const x = randomTensor(inputShape, 11) as tf.Tensor4D;
  const y = conv.apply(x);
  const expected = referenceConv2d(
    { values: x.dataSync() as Float32Array, shape: inputShape },
    conv.weight.dataSync() as Float32Array,
    {
      kernelSize: options.kernelSize,
      outChannels: options.outChannels,
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      groups: options.groups ?? 1,
      bias: conv.bias?.dataSync() as Float32Array | undefined,
    },
  );
  expect(y.shape).toEqual(expected.shape);
  expectArraysClose(y.dataSync(), expected.values, { rtol: 1e-4, atol: 1e-5 });
  tf.dispose([x, y]);
  store.dispose();
}

describeWithBackends('Conv2d', () => {
  it('3×3, stride 2, padding 1 pads symmetrically like PyTorch (not TF same)', () => {
    tf.tidy(() => {
      checkAgainstLoops({ inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, padding: 1 }, [2, 6, 6, 3]);
    });
  });
  it('3×3 stride 2 on an odd size', () => {
    tf.tidy(() => {
      checkAgainstLoops(
        { inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, bias: true, init: 'torchDefault' },
        [1, 7, 5, 2],
      );
    });
  });
  it('1×1 stride 1 (the matrix-product path) with bias', () => {
    tf.tidy(() => {
      checkAgainstLoops(
        { inChannels: 5, outChannels: 3, kernelSize: 1, bias: true, init: 'torchDefault' },
        [2, 3, 4, 5],
      );
    });
  });
  it('1×1 stride 2 shortcut', () => {
    tf.tidy(() => {
      checkAgainstLoops({ inChannels: 4, outChannels: 6, kernelSize: 1, stride: 2 }, [1, 5, 5, 4]);
    });
  });
  it('grouped 1×1 and grouped 3×3 convolutions', () => {
    tf.tidy(() => {
      checkAgainstLoops({ inChannels: 6, outChannels: 9, kernelSize: 1, groups: 3 }, [2, 3, 3, 6]);
      checkAgainstLoops({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1, groups: 2 }, [1, 4, 4, 4]);
    });
  });
  it('depthwise (groups = channels), stride 1 and 2', () => {
    tf.tidy(() => {
      checkAgainstLoops({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1, groups: 4 }, [2, 5, 5, 4]);
      checkAgainstLoops(
        { inChannels: 3, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, groups: 3 },
        [1, 6, 6, 3],
      );
    });
  });

  it('gradients of every path match finite differences of the loops', () => {
    tf.tidy(() => {
      for (const options of [
        { inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 1, groups: 2 },
        { inChannels: 4, outChannels: 2, kernelSize: 1, groups: 2 },
        { inChannels: 2, outChannels: 3, kernelSize: 1 },
      ] satisfies Conv2dOptions[]) {
        const store = new VariableStore(1);
        const conv = new Conv2d(store.scope('c'), options);
        const x = randomTensor([1, 4, 4, options.inChannels], 3) as tf.Tensor4D;
        const probe = randomTensor(
          [1, options.kernelSize === 1 ? 4 : 2, options.kernelSize === 1 ? 4 : 2, options.outChannels],
          4,
        );
        // d/dw Σ probe·conv(x, w), analytic vs central differences on the plain-JS convolution.
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(conv.apply(x), probe)) as tf.Scalar, [conv.weight]);
        const analytic = (grads[conv.weight.name] as tf.Tensor).dataSync();
        const weights = conv.weight.dataSync() as Float32Array;
        const xValues = x.dataSync() as Float32Array;
        const probeValues = probe.dataSync() as Float32Array;
        const objective = (w: Float32Array): number => {
          const y = referenceConv2d({ values: xValues, shape: x.shape }, w, {
            ...options,
            stride: options.stride ?? 1,
            padding: options.padding ?? 0,
            groups: options.groups ?? 1,
          });
          return y.values.reduce((total, value, index) => total + value * (probeValues[index] as number), 0);
        };
        const numeric = Array.from(weights, (_, index) => {
          const plus = weights.slice();
          const minus = weights.slice();
          plus[index] = (plus[index] as number) + 1e-3;
          minus[index] = (minus[index] as number) - 1e-3;
          return (objective(plus) - objective(minus)) / 2e-3;
        });
        expectArraysClose(analytic, numeric, { rtol: 1e-2, atol: 1e-3 });
        tf.dispose([x, probe, ...Object.values(grads)]);
        store.dispose();
      }
    });
  });

  it('initialises like the reference: kaiming-normal fan_out std, torch-default uniform bound', () => {
    tf.tidy(() => {
      const store = new VariableStore(9);
      const kaiming = new Conv2d(store.scope('a'), { inChannels: 64, outChannels: 128, kernelSize: 3 });
      const values = Array.from(kaiming.weight.dataSync());
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      // std = √(2 / (3·3·128)); 73,728 draws put the sample std within 1% of it.
      expect(Math.abs(std / Math.sqrt(2 / (9 * 128)) - 1)).toBeLessThan(0.01);
      expect(Math.abs(mean)).toBeLessThan(0.002);
      const uniform = new Conv2d(store.scope('b'), {
        inChannels: 12,
        outChannels: 12,
        kernelSize: 3,
        groups: 3,
        bias: true,
        init: 'torchDefault',
      });
      const bound = 1 / Math.sqrt(9 * 4);
      const weightValues = Array.from(uniform.weight.dataSync());
      expect(Math.max(...weightValues.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...weightValues.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      expect(uniform.weight.shape).toEqual([3, 3, 4, 12]);
      store.dispose();
    });
  });

  it('rejects channels that do not divide into the groups', () => {
    tf.tidy(() => {
      const store = new VariableStore(0);
      expect(() => new Conv2d(store.scope('bad'), { inChannels: 5, outChannels: 6, kernelSize: 1, groups: 2 })).toThrow(
        /Conv2d: inChannels \(5\) and outChannels \(6\) must be divisible by groups \(2\) in 'bad'/,
      );
      store.dispose();
    });
  });
});
