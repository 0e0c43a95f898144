import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { featureRoles, modelOutput } from './output';

describeWithBackends('modelOutput and featureRoles', () => {
  it('modelOutput lists [stem, ...stages, pooled] as features, the same tensors', () => {
    const [logits, stem, s1, s2, pooled, p1] = [
      tf.zeros([2, 3]),
      tf.zeros([2, 4, 4, 1]),
      tf.zeros([2, 2, 2, 2]),
      tf.zeros([2, 1, 1, 3]),
      tf.zeros([2, 3]),
      tf.zeros([2, 2, 2, 2]),
    ] as [tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor];
    const output = modelOutput({ logits, stem, stages: [s1, s2], pooled, preactivations: [p1] });
    expect(output.features.length).toBe(4);
    [stem, s1, s2, pooled].forEach((tensor, index) => expect(output.features[index]).toBe(tensor));
    expect(output.stem).toBe(stem);
    expect(output.pooled).toBe(pooled);
    expect(output.preactivations).toEqual([p1]);
    const bare = modelOutput({ logits });
    expect(bare.features).toEqual([]);
    expect(bare.stages).toEqual([]);
    expect(bare.preactivations).toEqual([]);
    expect('stem' in bare || 'pooled' in bare).toBe(false);
    tf.dispose([logits, stem, s1, s2, pooled, p1]);
  });

  it('featureRoles reads a plain list in the reference layout', () => {
    expect(featureRoles([4, 4, 4, 2])).toEqual({ stem: 0, stages: [1, 2], pooled: 3 });
    expect(featureRoles([4, 4])).toEqual({ stem: 0, stages: [1], pooled: undefined });
    expect(featureRoles([2])).toEqual({ stem: undefined, stages: [], pooled: 0 });
    expect(featureRoles([2, 2, 2])).toEqual({ stem: 0, stages: [1], pooled: 2 });
    expect(featureRoles([])).toEqual({ stem: undefined, stages: [], pooled: undefined });
  });
});
