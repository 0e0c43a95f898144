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
import { denseJs, plain, softplus } from './__fixtures__/reference';
import { VidVectorRegularizer } from './vid-vector-regularizer';

describeWithBackends('VidVectorRegularizer', () => {
  it('equals the per-channel Gaussian NLL of a linear map onto the flattened teacher map, computed with loops', () => {
    const vid = new VidVectorRegularizer({ studentDim: 4, teacherShape: [2, 3, 2], initialVariance: 3, seed: 1 });
    const student = randomTensor([2, 4], 2);
    const teacher = randomTensor([2, 2, 3, 2], 3, -2, 2);
    const mean = denseJs(plain(student), weightOf(vid, 'mean/kernel'), weightOf(vid, 'mean/bias')).data; // [2, 12], NHWC order
    const alpha = weightOf(vid, 'alpha').data;
    expect(Array.from(alpha, (value) => softplus(value) + 1e-5).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([3, 3]);
    const target = plain(teacher).data;
    let total = 0;
    target.forEach((value, index) => {
      const variance = softplus(alpha[index % 2] as number) + 1e-5; // the channel is the last (fastest) axis
      total += 0.5 * (Math.log(variance) + (value - (mean[index] as number)) ** 2 / variance);
    });
    expectClose(scalarOf(vid.loss(student, teacher)), total / target.length);
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('sends finite-difference-exact gradients to its kernel, bias and α, and is leak-free', () => {
    const vid = new VidVectorRegularizer({ studentDim: 3, teacherShape: [2, 2, 2], seed: 4 });
    const student = randomTensor([3, 3], 5);
    const teacher = randomTensor([3, 2, 2, 2], 6);
    const loss = () => vid.loss(student, teacher);
    expectGradientsReachEveryVariable(loss, vid.trainableVariables);
    for (const name of ['mean/kernel', 'mean/bias', 'alpha'])
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(vid, name));
    expectMinimizeIsLeakFree(loss, vid.trainableVariables);
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('is seeded, round-trips through saveWeights/loadWeights and rejects bad inputs', async () => {
    const options = { studentDim: 3, teacherShape: [2, 2, 2] as [number, number, number] };
    const a = new VidVectorRegularizer({ ...options, seed: 8 });
    const b = new VidVectorRegularizer({ ...options, seed: 8 });
    const c = new VidVectorRegularizer({ ...options, seed: 9 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([2, 3], 7);
    const teacher = randomTensor([2, 2, 2, 2], 8);
    await expectRoundTrip(a, c, (vid) => vid.loss(student, teacher));
    expectThrowsWith(() => a.loss(teacher, teacher), 'VidVectorRegularizer.loss', 'studentVector');
    const otherMap = randomTensor([2, 4, 4, 2], 9);
    expectThrowsWith(
      () => a.loss(student, otherMap),
      'VidVectorRegularizer.loss: teacherFeature must have shape [N, H, W, C_t] with H = 2',
    );
    const shortBatch = randomTensor([1, 3], 10);
    expectThrowsWith(() => a.loss(shortBatch, teacher), 'VidVectorRegularizer.loss', 'batch');
    expectThrowsWith(
      () => new VidVectorRegularizer({ studentDim: 3, teacherShape: [2, 2] as never }),
      'VidVectorRegularizer: teacherShape must be [H, W, C_t], got [2,2]',
    );
    expectThrowsWith(
      () => new VidVectorRegularizer({ studentDim: 3, teacherShape: [2, 0, 2] }),
      'VidVectorRegularizer: teacherShape[1]',
    );
    expectThrowsWith(
      () => new VidVectorRegularizer({ ...options, seed: 1, hidden: 3 } as never),
      "VidVectorRegularizer: unknown option 'hidden'",
    );
    tf.dispose([student, teacher, otherMap, shortBatch]);
    for (const vid of [a, b, c]) vid.dispose();
  });
});
