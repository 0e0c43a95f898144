import { describeWithBackends, expectClose, expectThrowsWith, randomTensor, scalarOf, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  expectDifferentWeights,
  expectGradientsReachEveryVariable,
  expectMinimizeIsLeakFree,
  expectRoundTrip,
  expectSameWeights,
  expectVariableGradientMatchesFiniteDifferences,
  setVariable,
  variableOf,
  weightOf,
} from './__fixtures__/helpers';
import { type Plain, denseJs, dot, logSumExp, mean, normalizeRow, plain, rows } from './__fixtures__/reference';
import { IcdRegularizer } from './icd-regularizer';

/** CE(rows of L, diagonal) + α · mean_i KL(column-softmax_i ‖ row-softmax_i), L = κ ẑ_s ẑ_tᵀ + b, with loops. */
function referenceIcd(icd: IcdRegularizer, student: Plain, teacher: Plain, alpha: number): number {
  const zs = rows(denseJs(student, weightOf(icd, 'embed/student/kernel'), weightOf(icd, 'embed/student/bias'))).map(
    normalizeRow,
  );
  const zt = rows(denseJs(teacher, weightOf(icd, 'embed/teacher/kernel'), weightOf(icd, 'embed/teacher/bias'))).map(
    normalizeRow,
  );
  const kappa = Math.min(Math.exp(weightOf(icd, 'logScale').data[0] as number), 10);
  const bias = weightOf(icd, 'logitBias').data[0] as number;
  const logits = zs.map((s) => zt.map((t) => kappa * dot(s, t) + bias));
  const n = logits.length;
  const contrastive = mean(logits.map((row, i) => logSumExp(row) - (row[i] as number)));
  const invariance = mean(
    logits.map((row, i) => {
      const column = logits.map((other) => other[i] as number);
      const logP = row.map((value) => value - logSumExp(row));
      const logR = column.map((value) => value - logSumExp(column));
      let kl = 0;
      for (let k = 0; k < n; k++) kl += Math.exp(logR[k] as number) * ((logR[k] as number) - (logP[k] as number));
      return kl;
    }),
  );
  return contrastive + alpha * invariance;
}

describeWithBackends('IcdRegularizer', () => {
  it('starts at θ = 1 (κ = e), b = 0 and equals the loop reference, also with κ clamped at 10 and a moved bias', () => {
    const icd = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 2 });
    expect(Array.from(weightOf(icd, 'logScale').data)).toEqual([1]);
    expect(Array.from(weightOf(icd, 'logitBias').data)).toEqual([0]);
    expectClose(scalarOf(icd.logitScale()), Math.E);
    const student = randomTensor([4, 3], 1);
    const teacher = randomTensor([4, 4], 2);
    expectClose(scalarOf(icd.loss(student, teacher)), referenceIcd(icd, plain(student), plain(teacher), 0.5));
    setVariable(variableOf(icd, 'logScale'), [3]);
    setVariable(variableOf(icd, 'logitBias'), [0.7]);
    expectClose(scalarOf(icd.logitScale()), 10);
    expectClose(scalarOf(icd.loss(student, teacher)), referenceIcd(icd, plain(student), plain(teacher), 0.5));
    tf.dispose([student, teacher]);
    icd.dispose();
    const noInvariance = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, alpha: 0, seed: 2 });
    const s = randomTensor([4, 3], 3);
    const t = randomTensor([4, 4], 4);
    expectClose(scalarOf(noInvariance.loss(s, t)), referenceIcd(noInvariance, plain(s), plain(t), 0));
    tf.dispose([s, t]);
    noInvariance.dispose();
  });

  it('sends finite-difference-exact gradients to both heads and θ, and none to θ beyond the clamp', () => {
    const icd = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 3 });
    const student = randomTensor([4, 3], 5);
    const teacher = randomTensor([4, 4], 6);
    const loss = () => icd.loss(student, teacher);
    // b shifts every logit equally and cancels in both softmaxes: its gradient is exactly 0
    const notBias = icd.trainableVariables.filter((variable) => variable !== variableOf(icd, 'logitBias'));
    expectGradientsReachEveryVariable(loss, notBias);
    for (const name of ['embed/student/kernel', 'embed/teacher/bias', 'logScale', 'logitBias']) {
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(icd, name), { maxElements: 5 });
    }
    setVariable(variableOf(icd, 'logScale'), [3]);
    const { value, grads } = tf.variableGrads(loss, [variableOf(icd, 'logScale')]);
    expect(Array.from(Object.values(grads)[0]?.dataSync() ?? [])).toEqual([0]);
    tf.dispose([value, ...Object.values(grads)]);
    expectMinimizeIsLeakFree(loss, icd.trainableVariables);
    tf.dispose([student, teacher]);
    icd.dispose();
  });

  it('is seeded, round-trips its weights and rejects bad inputs', async () => {
    const a = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 5 });
    const b = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 5 });
    const c = new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 6 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([4, 3], 7);
    const teacher = randomTensor([4, 4], 8);
    await expectRoundTrip(a, c, (icd) => icd.loss(student, teacher));
    expect(a.getConfig()).toEqual({ studentDim: 3, teacherDim: 4, embedDim: 5, alpha: 0.5, seed: 5 });
    expectThrowsWith(() => a.loss(teacher, teacher), 'IcdRegularizer.loss', 'studentVector');
    const three = randomTensor([3, 4], 9);
    expectThrowsWith(() => a.loss(student, three), 'IcdRegularizer.loss', 'batch');
    expectThrowsWith(() => new IcdRegularizer({ studentDim: 3, teacherDim: 4, alpha: -1 }), 'IcdRegularizer', 'alpha');
    expectThrowsWith(
      () => new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 0 }),
      'IcdRegularizer',
      'embedDim',
    );
    tf.dispose([student, teacher, three]);
    [a, b, c].forEach((icd) => icd.dispose());
  });
});
