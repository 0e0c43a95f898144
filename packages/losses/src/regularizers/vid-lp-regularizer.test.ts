import {
  describeWithBackends,
  expectArraysClose,
  expectClose,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
  valuesOf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  expectDifferentWeights,
  expectGradientsReachEveryVariable,
  expectMinimizeIsLeakFree,
  expectRoundTrip,
  expectSameWeights,
  expectVariableGradientMatchesFiniteDifferences,
  variableOf,
  weightOf,
} from './__fixtures__/helpers';
import { type Plain, denseJs, plain, softplus } from './__fixtures__/reference';
import { VidLpRegularizer } from './vid-lp-regularizer';

function referenceVidLp(lp: VidLpRegularizer, student: Plain, teacher: Plain, epsilon: number): number {
  const mean = denseJs(student, weightOf(lp, 'mean/kernel'), weightOf(lp, 'mean/bias'));
  const alpha = weightOf(lp, 'alpha').data;
  let total = 0;
  teacher.data.forEach((target, index) => {
    const variance = softplus(alpha[index % alpha.length] as number) + epsilon;
    total += 0.5 * (Math.log(variance) + (target - (mean.data[index] as number)) ** 2 / variance);
  });
  return total / teacher.data.length;
}

describeWithBackends('VidLpRegularizer', () => {
  it('equals the per-unit Gaussian NLL of a linear map computed with loops, σ² starting at initialVariance', () => {
    const lp = new VidLpRegularizer({ studentDim: 4, teacherDim: 3, initialVariance: 2, seed: 3 });
    expectArraysClose(valuesOf(lp.variance()), [2, 2, 2]);
    const student = randomTensor([5, 4], 1);
    const logits = randomTensor([5, 3], 2, -4, 4);
    expectClose(scalarOf(lp.loss(student, logits)), referenceVidLp(lp, plain(student), plain(logits), 1e-5));
    tf.dispose([student, logits]);
    lp.dispose();
  });

  it('sends finite-difference-exact gradients to its kernel, bias and α', () => {
    const lp = new VidLpRegularizer({ studentDim: 3, teacherDim: 2, seed: 4 });
    const student = randomTensor([4, 3], 3);
    const logits = randomTensor([4, 2], 4, -3, 3);
    const loss = () => lp.loss(student, logits);
    expectGradientsReachEveryVariable(loss, lp.trainableVariables);
    for (const name of ['mean/kernel', 'mean/bias', 'alpha'])
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(lp, name));
    expectMinimizeIsLeakFree(loss, lp.trainableVariables);
    tf.dispose([student, logits]);
    lp.dispose();
  });

  it('is seeded, round-trips through saveWeights/loadWeights and rejects bad inputs', async () => {
    const a = new VidLpRegularizer({ studentDim: 3, teacherDim: 2, seed: 8 });
    const b = new VidLpRegularizer({ studentDim: 3, teacherDim: 2, seed: 8 });
    const c = new VidLpRegularizer({ studentDim: 3, teacherDim: 2, seed: 9 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([4, 3], 5);
    const logits = randomTensor([4, 2], 6);
    await expectRoundTrip(a, c, (lp) => lp.loss(student, logits));
    expectThrowsWith(() => a.loss(logits, logits), 'VidLpRegularizer.loss', 'studentVector');
    const shortBatch = randomTensor([3, 2], 7);
    expectThrowsWith(() => a.loss(student, shortBatch), 'VidLpRegularizer.loss', 'batch');
    expectThrowsWith(
      () => new VidLpRegularizer({ studentDim: 3, teacherDim: 2, initialVariance: 1e-6 }),
      'initialVariance',
      'epsilon',
    );
    expectThrowsWith(() => new VidLpRegularizer(null as never), 'VidLpRegularizer', 'options');
    expect(a.getConfig()).toEqual({ studentDim: 3, teacherDim: 2, initialVariance: 5, epsilon: 1e-5, seed: 8 });
    tf.dispose([student, logits, shortBatch]);
    [a, b, c].forEach((lp) => lp.dispose());
  });
});
