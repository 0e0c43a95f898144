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
import { type Plain, avgPoolJs, map, plain, pointwiseJs, relu, softplus } from './__fixtures__/reference';
import { VidRegularizer, inverseSoftplusVariance } from './vid-regularizer';

/** mean over all elements of ½(log σ²_c + (t − μ)²/σ²_c), μ from the three 1×1 convs with loops. */
function referenceVid(vid: VidRegularizer, student: Plain, teacher: Plain, epsilon: number): number {
  const hidden1 = map(pointwiseJs(student, weightOf(vid, 'regressor/conv1/kernel')), relu);
  const hidden2 = map(pointwiseJs(hidden1, weightOf(vid, 'regressor/conv2/kernel')), relu);
  const mean = pointwiseJs(hidden2, weightOf(vid, 'regressor/conv3/kernel'));
  const alpha = weightOf(vid, 'alpha').data;
  const channels = alpha.length;
  let total = 0;
  teacher.data.forEach((target, index) => {
    const variance = softplus(alpha[index % channels] as number) + epsilon;
    total += 0.5 * (Math.log(variance) + (target - (mean.data[index] as number)) ** 2 / variance);
  });
  return total / teacher.data.length;
}

describeWithBackends('VidRegularizer', () => {
  it('starts every channel at σ² = initialVariance, and α₀ = log(e^{v−ε} − 1)', () => {
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 4, seed: 1 });
    expectArraysClose(valuesOf(vid.variance()), [5, 5, 5, 5]);
    expectClose(inverseSoftplusVariance(5, 1e-5), Math.log(Math.exp(5 - 1e-5) - 1), { rtol: 1e-12 });
    vid.dispose();
    const other = new VidRegularizer({
      studentChannels: 3,
      teacherChannels: 2,
      initialVariance: 0.5,
      epsilon: 1e-3,
      seed: 1,
    });
    expectArraysClose(valuesOf(other.variance()), [0.5, 0.5]);
    other.dispose();
  });

  it('equals the Gaussian negative log-likelihood computed with loops, also after moving the variances', () => {
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 4, hiddenChannels: 5, seed: 7 });
    const student = randomTensor([2, 3, 3, 3], 1);
    const teacher = randomTensor([2, 3, 3, 4], 2, 0, 2);
    expectClose(scalarOf(vid.loss(student, teacher)), referenceVid(vid, plain(student), plain(teacher), 1e-5));
    const alpha = variableOf(vid, 'alpha');
    const moved = tf.tensor1d([-1, 0.5, 2, 3]);
    alpha.assign(moved);
    moved.dispose();
    expectClose(scalarOf(vid.loss(student, teacher)), referenceVid(vid, plain(student), plain(teacher), 1e-5));
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('pools the larger map to the smaller one (student larger, then teacher larger)', () => {
    const vid = new VidRegularizer({ studentChannels: 2, teacherChannels: 3, seed: 3 });
    const bigStudent = randomTensor([2, 4, 4, 2], 4);
    const smallTeacher = randomTensor([2, 2, 2, 3], 5);
    const expected = referenceVid(vid, avgPoolJs(plain(bigStudent), 2), plain(smallTeacher), 1e-5);
    expectClose(scalarOf(vid.loss(bigStudent, smallTeacher)), expected);
    const smallStudent = randomTensor([2, 2, 2, 2], 6);
    const bigTeacher = randomTensor([2, 4, 4, 3], 7);
    const expectedPooledTeacher = referenceVid(vid, plain(smallStudent), avgPoolJs(plain(bigTeacher), 2), 1e-5);
    expectClose(scalarOf(vid.loss(smallStudent, bigTeacher)), expectedPooledTeacher);
    tf.dispose([bigStudent, smallTeacher, smallStudent, bigTeacher]);
    vid.dispose();
  });

  it('sends gradients to every variable, equal to finite differences', () => {
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 2, seed: 11 });
    const student = randomTensor([2, 2, 2, 3], 8);
    const teacher = randomTensor([2, 2, 2, 2], 9);
    const loss = () => vid.loss(student, teacher);
    expectGradientsReachEveryVariable(loss, vid.trainableVariables);
    for (const name of ['regressor/conv1/kernel', 'regressor/conv3/kernel', 'alpha']) {
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(vid, name), { maxElements: 6 });
    }
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('is deterministic under a seed and records it in getConfig', () => {
    const a = new VidRegularizer({ studentChannels: 3, teacherChannels: 4, seed: 42 });
    const b = new VidRegularizer({ studentChannels: 3, teacherChannels: 4, seed: 42 });
    const c = new VidRegularizer({ studentChannels: 3, teacherChannels: 4, seed: 43 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    expect(a.getConfig()).toEqual({
      studentChannels: 3,
      teacherChannels: 4,
      hiddenChannels: 4,
      initialVariance: 5,
      epsilon: 1e-5,
      seed: 42,
    });
    expect(JSON.parse(JSON.stringify(a.getConfig()))).toEqual(a.getConfig());
    const unseeded = new VidRegularizer({ studentChannels: 3, teacherChannels: 4 });
    const replay = new VidRegularizer(unseeded.getConfig() as never);
    expectSameWeights(unseeded, replay);
    expect(a.name).not.toBe(b.name);
    [a, b, c, unseeded, replay].forEach((vid) => vid.dispose());
  });

  it('saves and loads its weights (same loss after a round trip) and rejects a mismatched artifact', async () => {
    const source = new VidRegularizer({ studentChannels: 3, teacherChannels: 2, seed: 1 });
    const target = new VidRegularizer({ studentChannels: 3, teacherChannels: 2, seed: 2 });
    const student = randomTensor([2, 2, 2, 3], 10);
    const teacher = randomTensor([2, 2, 2, 2], 11);
    await expectRoundTrip(source, target, (vid) => vid.loss(student, teacher));
    const wider = new VidRegularizer({ studentChannels: 3, teacherChannels: 5, seed: 1 });
    const artifacts = await source.saveWeights();
    expectThrowsWith(
      () => wider.loadWeights(artifacts),
      'VidRegularizer.loadWeights',
      "'regressor/conv1/kernel'",
      'shape',
    );
    tf.dispose([student, teacher]);
    [source, target, wider].forEach((vid) => vid.dispose());
  });

  it('keeps the tensor count flat over repeated minimize steps', () => {
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 2, seed: 5 });
    const student = randomTensor([2, 2, 2, 3], 12);
    const teacher = randomTensor([2, 2, 2, 2], 13);
    expectMinimizeIsLeakFree(() => vid.loss(student, teacher), vid.trainableVariables, { steps: 5 });
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('rejects bad options and inputs with the function and argument named', () => {
    expectThrowsWith(
      () => new VidRegularizer({ studentChannels: 0, teacherChannels: 2 }),
      'VidRegularizer',
      'studentChannels',
    );
    expectThrowsWith(
      () => new VidRegularizer({ studentChannels: 2, teacherChannels: 2.5 }),
      'VidRegularizer',
      'teacherChannels',
    );
    expectThrowsWith(
      () => new VidRegularizer({ studentChannels: 2, teacherChannels: 2, initialVariance: Number.NaN }),
      'initialVariance',
    );
    expectThrowsWith(() => new VidRegularizer({ studentChannels: 2, teacherChannels: 2, epsilon: -1 }), 'epsilon');
    expectThrowsWith(() => new VidRegularizer({ studentChannels: 2, teacherChannels: 2, seed: -3 }), 'seed');
    expectThrowsWith(
      () => new VidRegularizer({ studentChannels: 2, teacherChannels: 2, varaince: 3 } as never),
      "unknown option 'varaince'",
    );
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 2, seed: 1 });
    const student = randomTensor([2, 2, 2, 3], 1);
    const teacher = randomTensor([2, 2, 2, 2], 2);
    const wrongChannels = randomTensor([2, 2, 2, 4], 3);
    const wrongBatch = randomTensor([3, 2, 2, 2], 4);
    const rank3 = randomTensor([2, 2, 3], 5);
    const withNaN = tf.fill([2, 2, 2, 2], Number.NaN);
    const odd = randomTensor([2, 3, 3, 2], 6);
    expectThrowsWith(() => vid.loss(wrongChannels, teacher), 'VidRegularizer.loss', 'studentFeature');
    expectThrowsWith(() => vid.loss(student, wrongBatch), 'VidRegularizer.loss', 'batch');
    expectThrowsWith(() => vid.loss(rank3, teacher), 'VidRegularizer.loss', 'studentFeature', 'rank 4');
    expectThrowsWith(() => vid.loss(student, withNaN), 'VidRegularizer.loss', 'teacherFeature', 'NaN');
    expectThrowsWith(() => vid.loss(student, odd), 'VidRegularizer.loss', 'spatial');
    vid.dispose();
    expectThrowsWith(() => vid.loss(student, teacher), 'VidRegularizer.loss', 'disposed');
    tf.dispose([student, teacher, wrongChannels, wrongBatch, rank3, withNaN, odd]);
  });
});
