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
import { type Plain, batchNormJs, conv2dJs, conv2dTransposeJs, map, mean, plain, relu } from './__fixtures__/reference';
import { type FeatureShape, FitNetRegularizer } from './fitnet-regularizer';
import { setVariable } from './__fixtures__/helpers';

function regressJs(fitnet: FitNetRegularizer, student: Plain): Plain {
  const kernel = weightOf(fitnet, 'regressor/kernel');
  const bias = weightOf(fitnet, 'regressor/bias');
  const convolved =
    fitnet.regressorKind === 'conv3x3-stride2'
      ? conv2dJs(student, kernel, bias, 2, 1)
      : fitnet.regressorKind === 'transposed4x4-stride2'
        ? conv2dTransposeJs(student, kernel, bias, 2, 1)
        : conv2dJs(student, kernel, bias, 1, 0);
  return map(
    batchNormJs(convolved, weightOf(fitnet, 'regressor/batchNorm/gamma'), weightOf(fitnet, 'regressor/batchNorm/beta')),
    relu,
  );
}

const CASES: Array<{
  studentShape: FeatureShape;
  teacherShape: FeatureShape;
  kind: FitNetRegularizer['regressorKind'];
  kernel: number[];
}> = [
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
    expect(a.getConfig()).toEqual({ studentShape: [4, 4, 2], teacherShape: [2, 2, 3], seed: 1, activation: 'relu' });
    expectThrowsWith(
      () => new FitNetRegularizer({ studentShape: [2, 2, 2], teacherShape: [3, 3, 2] }),
      'FitNetRegularizer',
      '2x2',
      '3x3',
    );
    expectThrowsWith(
      () => new FitNetRegularizer({ studentShape: [2, 2] as never, teacherShape: [2, 2, 2] }),
      'FitNetRegularizer',
      'studentShape',
    );
    expectThrowsWith(() => a.loss(teacher, teacher), 'FitNetRegularizer.loss', 'studentFeature');
    const wrongTeacher = randomTensor([2, 4, 4, 3], 7);
    expectThrowsWith(() => a.loss(student, wrongTeacher), 'FitNetRegularizer.loss', 'teacherFeature');
    tf.dispose([student, teacher, wrongTeacher]);
    [a, b, c].forEach((fitnet) => fitnet.dispose());
  });
});

describeWithBackends("FitNetRegularizer with activation: 'none' (AB's connector)", () => {
  it('maps a channel-only difference with a 1×1 conv + BN and no ReLU, equal to hand loops for fixed weights', () => {
    const connector = new FitNetRegularizer({
      studentShape: [1, 2, 2],
      teacherShape: [1, 2, 3],
      activation: 'none',
      seed: 1,
    });
    expect(connector.regressorKind).toBe('conv-valid');
    expect(connector.activation).toBe('none');
    // kernel [1, 1, in 2, out 3], bias [3], γ [3], β [3]
    const kernel = [0.5, -1, 2, 1.5, 0.25, -0.5];
    const bias = [0.1, -0.2, 0.3];
    const gamma = [1, 2, 0.5];
    const beta = [0, -1, 0.25];
    setVariable(variableOf(connector, 'regressor/kernel'), kernel);
    setVariable(variableOf(connector, 'regressor/bias'), bias);
    setVariable(variableOf(connector, 'regressor/batchNorm/gamma'), gamma);
    setVariable(variableOf(connector, 'regressor/batchNorm/beta'), beta);
    // 2 images × 1×2 positions × 2 channels: 4 positions in all
    const input = [1, 2, -1, 0.5, 3, -2, 0, 1];
    const positions = 4;
    const expected = new Array<number>(positions * 3);
    for (let out = 0; out < 3; out++) {
      const z: number[] = [];
      for (let p = 0; p < positions; p++)
        z.push(input[2 * p]! * kernel[out]! + input[2 * p + 1]! * kernel[3 + out]! + bias[out]!);
      const mu = z.reduce((a, b) => a + b, 0) / positions;
      const variance = z.reduce((a, b) => a + (b - mu) ** 2, 0) / positions;
      z.forEach((value, p) => {
        expected[3 * p + out] = (gamma[out]! * (value - mu)) / Math.sqrt(variance + 1e-5) + beta[out]!;
      });
    }
    expect(expected.some((value) => value < 0)).toBe(true); // a ReLU would have changed the result
    const student = tf.tensor4d(input, [2, 1, 2, 2]);
    const regressed = connector.regress(student);
    expect(regressed.shape).toEqual([2, 1, 2, 3]);
    expectArraysClose(valuesOf(regressed), expected, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([student, regressed]);
    connector.dispose();
  });

  it('keeps the negative side for every regressor kind (equals BN(conv(s)) with loops)', () => {
    for (const { studentShape, teacherShape } of CASES) {
      const connector = new FitNetRegularizer({ studentShape, teacherShape, activation: 'none', seed: 5 });
      const student = randomTensor([2, ...studentShape], 8);
      const kernel = weightOf(connector, 'regressor/kernel');
      const bias = weightOf(connector, 'regressor/bias');
      const convolved =
        connector.regressorKind === 'conv3x3-stride2'
          ? conv2dJs(plain(student), kernel, bias, 2, 1)
          : connector.regressorKind === 'transposed4x4-stride2'
            ? conv2dTransposeJs(plain(student), kernel, bias, 2, 1)
            : conv2dJs(plain(student), kernel, bias, 1, 0);
      const expected = batchNormJs(
        convolved,
        weightOf(connector, 'regressor/batchNorm/gamma'),
        weightOf(connector, 'regressor/batchNorm/beta'),
      );
      expect(expected.data.some((value) => value < -0.1)).toBe(true);
      const regressed = connector.regress(student);
      expect(regressed.shape).toEqual([2, ...teacherShape]);
      expectArraysClose(valuesOf(regressed), expected.data, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([student, regressed]);
      connector.dispose();
    }
  });

  it('sends finite-difference-exact gradients through regress to the student map and every weight', () => {
    const connector = new FitNetRegularizer({
      studentShape: [4, 4, 2],
      teacherShape: [2, 2, 3],
      activation: 'none',
      seed: 6,
    });
    const student = tf.tidy(() => tf.variable(randomTensor([2, 4, 4, 2], 9), true));
    const probe = randomTensor([2, 2, 2, 3], 10);
    // A smooth readout Σ r(s)·w: every entry of r(s) (negative ones too) reaches the loss.
    const loss = () => tf.sum(tf.mul(connector.regress(student), probe)) as tf.Scalar;
    expectGradientsReachEveryVariable(loss, [...connector.trainableVariables, student]);
    for (const name of [
      'regressor/kernel',
      'regressor/bias',
      'regressor/batchNorm/gamma',
      'regressor/batchNorm/beta',
    ]) {
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(connector, name), { maxElements: 4, step: 2e-3 });
    }
    expectVariableGradientMatchesFiniteDifferences(loss, student, { maxElements: 4, step: 2e-3 });
    expectMinimizeIsLeakFree(loss, connector.trainableVariables);
    tf.dispose([student, probe]);
    connector.dispose();
  });

  it('round-trips its weights, records the activation and rejects bad options and inputs', async () => {
    const options = {
      studentShape: [2, 2, 2] as FeatureShape,
      teacherShape: [2, 2, 4] as FeatureShape,
      activation: 'none' as const,
    };
    const a = new FitNetRegularizer({ ...options, seed: 1 });
    const c = new FitNetRegularizer({ ...options, seed: 2 });
    const student = randomTensor([3, 2, 2, 2], 11);
    const probe = randomTensor([3, 2, 2, 4], 12);
    await expectRoundTrip(a, c, (connector) => tf.sum(tf.mul(connector.regress(student), probe)) as tf.Scalar);
    expectSameWeights(a, c);
    expect(a.getConfig()).toEqual({ studentShape: [2, 2, 2], teacherShape: [2, 2, 4], seed: 1, activation: 'none' });
    const rebuilt = new FitNetRegularizer(a.getConfig() as never);
    expectSameWeights(a, rebuilt);
    expectThrowsWith(
      () => new FitNetRegularizer({ ...options, activation: 'sigmoid' as never }),
      'FitNetRegularizer',
      'activation',
      'sigmoid',
    );
    expectThrowsWith(() => a.regress(probe), 'FitNetRegularizer.regress', 'studentFeature');
    const rank3 = tf.zeros([2, 2, 2]);
    expectThrowsWith(() => a.regress(rank3), 'FitNetRegularizer.regress', 'studentFeature');
    const withNaN = tf.fill([1, 2, 2, 2], Number.NaN);
    expectThrowsWith(() => a.regress(withNaN), 'FitNetRegularizer.regress', 'studentFeature');
    rebuilt.dispose();
    expectThrowsWith(() => rebuilt.regress(student), 'FitNetRegularizer.regress', 'disposed');
    tf.dispose([student, probe, rank3, withNaN]);
    [a, c].forEach((connector) => connector.dispose());
  });
});
