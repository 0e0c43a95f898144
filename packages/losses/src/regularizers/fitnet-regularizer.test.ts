import { describeWithBackends, expectArraysClose, expectClose, expectThrowsWith, randomTensor, scalarOf, tf, valuesOf } from '@kd/test-utils';
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
import { type Plain, batchNormJs, conv2dJs, conv2dTransposeJs, map, mean, plain, relu } from './__fixtures__/reference';
import { type FeatureShape, FitNetRegularizer } from './fitnet-regularizer';

function regressJs(fitnet: FitNetRegularizer, student: Plain): Plain {
  const kernel = weightOf(fitnet, 'regressor/kernel');
  const bias = weightOf(fitnet, 'regressor/bias');
  const convolved =
    fitnet.regressorKind === 'conv3x3-stride2'
      ? conv2dJs(student, kernel, bias, 2, 1)
      : fitnet.regressorKind === 'transposed4x4-stride2'
        ? conv2dTransposeJs(student, kernel, bias, 2, 1)
        : conv2dJs(student, kernel, bias, 1, 0);
  return map(batchNormJs(convolved, weightOf(fitnet, 'regressor/batchNorm/gamma'), weightOf(fitnet, 'regressor/batchNorm/beta')), relu);
}

const CASES: Array<{ studentShape: FeatureShape; teacherShape: FeatureShape; kind: FitNetRegularizer['regressorKind']; kernel: number[] }> = [
  { studentShape: [4, 4, 2], teacherShape: [2, 2, 3], kind: 'conv3x3-stride2', kernel: [3, 3, 2, 3] },
  { studentShape: [2, 2, 2], teacherShape: [4, 4, 3], kind: 'transposed4x4-stride2', kernel: [4, 4, 3, 2] },
  { studentShape: [4, 4, 2], teacherShape: [3, 3, 3], kind: 'conv-valid', kernel: [2, 2, 2, 3] },
  { studentShape: [3, 3, 2], teacherShape: [3, 3, 3], kind: 'conv-valid', kernel: [1, 1, 2, 3] },
];

describeWithBackends('FitNetRegularizer', () => {
  for (const { studentShape, teacherShape, kind, kernel } of CASES) {
    it(`builds ${kind} for ${studentShape.join('x')} → ${teacherShape.join('x')} and equals MSE(ReLU(BN(conv(s))), t) with loops`, () => {
      const fitnet = new FitNetRegularizer({ studentShape, teacherShape, seed: 3 });
      expect(fitnet.regressorKind).toBe(kind);
      expect(variableOf(fitnet, 'regressor/kernel').shape).toEqual(kernel);
      const student = randomTensor([2, ...studentShape], 1);
      const teacher = randomTensor([2, ...teacherShape], 2, 0, 1);
      const regressed = regressJs(fitnet, plain(student));
      expectArraysClose(valuesOf(fitnet.regress(student as tf.Tensor4D)), regressed.data, { rtol: 1e-4, atol: 1e-5 });
      const expected = mean(regressed.data.map((value, index) => (value - (teacher.dataSync()[index] as number)) ** 2));
      expectClose(scalarOf(fitnet.loss(student, teacher)), expected, { rtol: 1e-5 });
      tf.dispose([student, teacher]);
      fitnet.dispose();
    });
  }

  it('sends finite-difference-exact gradients to the regressor and batch norm', () => {
    const fitnet = new FitNetRegularizer({ studentShape: [2, 2, 2], teacherShape: [4, 4, 2], seed: 4 });
    const student = randomTensor([2, 2, 2, 2], 3);
    const teacher = randomTensor([2, 4, 4, 2], 4, 0, 1);
    const loss = () => fitnet.loss(student, teacher);
    expectGradientsReachEveryVariable(loss, fitnet.trainableVariables);
    for (const name of ['regressor/kernel', 'regressor/batchNorm/gamma']) {
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(fitnet, name), { maxElements: 6, step: 2e-3 });
    }
    expectMinimizeIsLeakFree(loss, fitnet.trainableVariables);
    tf.dispose([student, teacher]);
    fitnet.dispose();
  });

  it('is seeded, round-trips its weights and rejects unsupported sizes and bad inputs', async () => {
    const options = { studentShape: [4, 4, 2] as FeatureShape, teacherShape: [2, 2, 3] as FeatureShape };
    const a = new FitNetRegularizer({ ...options, seed: 1 });
    const b = new FitNetRegularizer({ ...options, seed: 1 });
    const c = new FitNetRegularizer({ ...options, seed: 2 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([2, 4, 4, 2], 5);
    const teacher = randomTensor([2, 2, 2, 3], 6);
    await expectRoundTrip(a, c, (fitnet) => fitnet.loss(student, teacher));
    expect(a.getConfig()).toEqual({ studentShape: [4, 4, 2], teacherShape: [2, 2, 3], seed: 1 });
    expectThrowsWith(() => new FitNetRegularizer({ studentShape: [2, 2, 2], teacherShape: [3, 3, 2] }), 'FitNetRegularizer', '2x2', '3x3');
    expectThrowsWith(() => new FitNetRegularizer({ studentShape: [2, 2] as never, teacherShape: [2, 2, 2] }), 'FitNetRegularizer', 'studentShape');
    expectThrowsWith(() => a.loss(teacher, teacher), 'FitNetRegularizer.loss', 'studentFeature');
    const wrongTeacher = randomTensor([2, 4, 4, 3], 7);
    expectThrowsWith(() => a.loss(student, wrongTeacher), 'FitNetRegularizer.loss', 'teacherFeature');
    tf.dispose([student, teacher, wrongTeacher]);
    [a, b, c].forEach((fitnet) => fitnet.dispose());
  });
});
