import { describeWithBackends, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { collectTrainableVariables } from './collect';
import { CentroidTracker } from './centroid-tracker';
import { CorrelationCongruenceRegularizer } from './correlation-congruence-regularizer';
import { FactorTransferRegularizer } from './factor-transfer-regularizer';
import { VidRegularizer } from './vid-regularizer';

function variable(values: number[]): tf.Variable {
  const initial = tf.tensor1d(values);
  const created = tf.variable(initial);
  initial.dispose();
  return created;
}

describeWithBackends('collectTrainableVariables', () => {
  it("returns the model's, the extra and every regularizer's trainable variables, each once, in that order", () => {
    const [a, b, c] = [variable([1]), variable([2]), variable([3])];
    const model = { trainableVariables: [a, b] };
    const vid = new VidRegularizer({ studentChannels: 2, teacherChannels: 3, seed: 1 });
    const cc = new CorrelationCongruenceRegularizer({ studentDim: 2, teacherDim: 3, embedDim: 4, seed: 1 });
    const ft = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 2, seed: 1 });
    const tracker = new CentroidTracker({ numClasses: 3 });
    const regularizers = [vid, cc, vid, ft, tracker];
    const collected = collectTrainableVariables({ model, variables: [c, a], regularizers });
    // VID: 3 kernels + α; CC: 2 kernels + 2 biases; FT: the translator's 3 × (kernel, bias, γ, β), not the paraphraser
    expect(vid.trainableVariables).toHaveLength(4);
    expect(cc.trainableVariables).toHaveLength(4);
    expect(ft.trainableVariables).toHaveLength(12);
    expect(collected).toHaveLength(3 + 4 + 4 + 12);
    const expected = [a, b, c, ...vid.trainableVariables, ...cc.trainableVariables, ...ft.trainableVariables];
    collected.forEach((entry, index) => expect(entry).toBe(expected[index]));
    expect(collected.some((entry) => ft.paraphraserVariables.includes(entry))).toBe(false);
    expect(collectTrainableVariables({ regularizers: [cc] })).toEqual(cc.trainableVariables);
    [vid, cc, ft, tracker].forEach((regularizer) => regularizer.dispose());
    tf.dispose([a, b, c]);
  });

  it('refuses an unbuilt regularizer, naming it and how to build it', () => {
    const model = { trainableVariables: [] };
    const lazy = new VidRegularizer({ seed: 1 });
    expectThrowsWith(
      () => collectTrainableVariables({ model, regularizers: [lazy] }),
      'collectTrainableVariables',
      `regularizers[0] (${lazy.name}) is not built yet`,
      'build({ student',
    );
    lazy.build({ student: [1, 2, 2, 2], teacher: [1, 2, 2, 3] });
    expect(collectTrainableVariables({ model, regularizers: [lazy] })).toEqual(lazy.trainableVariables);
    lazy.dispose();
  });

  it('rejects bad options with the function and argument named', () => {
    const fn = 'collectTrainableVariables';
    const collect = collectTrainableVariables;
    const tensor = tf.tensor1d([1]);
    expectThrowsWith(() => collect(undefined as never), fn, 'options');
    expectThrowsWith(() => collect({}), fn, 'at least one of model, variables and regularizers');
    expectThrowsWith(() => collect({ model: {}, regularisers: [] } as never), fn, "'regularisers'", 'regularizers');
    expectThrowsWith(() => collect({ model: {} as never }), fn, 'model.trainableVariables must be an array');
    expectThrowsWith(() => collect({ variables: [tensor as never] }), fn, 'variables[0] must be a tf.Variable');
    expectThrowsWith(() => collect({ regularizers: [null as never] }), fn, 'regularizers[0] must be a regularizer');
    expectThrowsWith(() => collect({ regularizers: {} as never }), fn, 'regularizers must be an array');
    tensor.dispose();
  });
});
