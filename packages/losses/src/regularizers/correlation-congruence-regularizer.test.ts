import { describeWithBackends, expectClose, expectThrowsWith, randomTensor, scalarOf, tf } from '@kd/test-utils';
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
import { type Plain, denseJs, mean, plain, rows } from './__fixtures__/reference';
import { CorrelationCongruenceRegularizer } from './correlation-congruence-regularizer';

/** mean_i ⟨δ_i, δ_{i+1}⟩ with δ = |W_s s + c_s − (W_t t + c_t)|, with loops. */
function referenceCc(cc: CorrelationCongruenceRegularizer, student: Plain, teacher: Plain): number {
  const es = rows(denseJs(student, weightOf(cc, 'embed/student/kernel'), weightOf(cc, 'embed/student/bias')));
  const et = rows(denseJs(teacher, weightOf(cc, 'embed/teacher/kernel'), weightOf(cc, 'embed/teacher/bias')));
  const delta = es.map((row, i) => row.map((value, d) => Math.abs(value - ((et[i] as number[])[d] as number))));
  return mean(
    delta
      .slice(0, -1)
      .map((row, i) => row.reduce((total, value, d) => total + value * ((delta[i + 1] as number[])[d] as number), 0)),
  );
}

describeWithBackends('CorrelationCongruenceRegularizer', () => {
  it('equals the consecutive-pair correlation of the embedded differences computed with loops', () => {
    const cc = new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 1 });
    const student = randomTensor([4, 3], 1);
    const teacher = randomTensor([4, 4], 2);
    expectClose(scalarOf(cc.loss(student, teacher)), referenceCc(cc, plain(student), plain(teacher)));
    tf.dispose([student, teacher]);
    cc.dispose();
  });

  it('sends finite-difference-exact gradients to both embeddings and does not leak over minimize steps', () => {
    const cc = new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed: 2 });
    const student = randomTensor([4, 3], 3);
    const teacher = randomTensor([4, 4], 4);
    const loss = () => cc.loss(student, teacher);
    expectGradientsReachEveryVariable(loss, cc.trainableVariables);
    expectVariableGradientMatchesFiniteDifferences(loss, variableOf(cc, 'embed/student/kernel'), { step: 1e-3 });
    expectVariableGradientMatchesFiniteDifferences(loss, variableOf(cc, 'embed/teacher/bias'), { step: 1e-3 });
    expectMinimizeIsLeakFree(loss, cc.trainableVariables);
    tf.dispose([student, teacher]);
    cc.dispose();
  });

  it('is seeded (embedDim 128 by default), round-trips its weights and rejects bad inputs', async () => {
    const a = new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, seed: 5 });
    const b = new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, seed: 5 });
    const c = new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, seed: 6 });
    expect(variableOf(a, 'embed/student/kernel').shape).toEqual([3, 128]);
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([4, 3], 5);
    const teacher = randomTensor([4, 4], 6);
    await expectRoundTrip(a, c, (cc) => cc.loss(student, teacher));
    expectThrowsWith(() => a.loss(teacher, teacher), 'CorrelationCongruenceRegularizer.loss', 'studentVector');
    const fn = 'CorrelationCongruenceRegularizer';
    expectThrowsWith(() => new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 0 }), fn, 'teacherDim');
    tf.dispose([student, teacher]);
    [a, b, c].forEach((cc) => cc.dispose());
  });
});
