import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { assertFloat, assertRank, assertTensor } from './tensors';

describeWithBackends('tensor checks', () => {
  it('accept live tensors of an allowed rank and dtype', () => {
    const x = tf.zeros([2, 3]);
    expect(assertRank('f', 'x', x, [2, 4], '[N, C]')).toBe(x);
    expect(() => assertFloat('f', 'x', x)).not.toThrow();
    x.dispose();
  });

  it('name the function, the argument and what it got', () => {
    const x = tf.zeros([2, 3, 4]);
    expect(() => assertRank('kdLoss', 'studentLogits', x, 2, '[N, C]')).toThrow(
      'kdLoss: studentLogits must be rank 2 [N, C], got rank 3 [2,3,4]',
    );
    expect(() => assertRank('f', 'x', x, [2, 4], '[N, C] or [N, H, W, C]')).toThrow('f: x must be rank 2 or 4');
    const labels = tf.tensor1d([1], 'int32');
    expect(() => assertFloat('f', 'labels', labels)).toThrow('f: labels must be float32, got int32');
    labels.dispose();
    x.dispose();
    expect(() => assertTensor('f', 'x', x)).toThrow('f: x has been disposed');
    expect(() => assertTensor('f', 'x', [1, 2])).toThrow('f: x must be a tf.Tensor, got object');
    expect(() => assertTensor('f', 'x', null)).toThrow('f: x must be a tf.Tensor, got null');
  });
});
