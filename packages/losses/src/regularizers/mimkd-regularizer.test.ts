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
import {
  type Plain,
  add,
  batchNormJs,
  denseJs,
  dot,
  layerNormJs,
  logSumExp,
  map,
  mean,
  plain,
  pointwiseJs,
  relu,
  rows,
  softplus,
} from './__fixtures__/reference';
import { type MiEstimator, MimkdRegularizer } from './mimkd-regularizer';

function mlpJs(mi: MimkdRegularizer, prefix: string, x: Plain): Plain {
  const w = (name: string) => weightOf(mi, `${prefix}/${name}`);
  const hidden = map(
    batchNormJs(denseJs(x, w('dense1/kernel'), w('dense1/bias')), w('batchNorm/gamma'), w('batchNorm/beta')),
    relu,
  );
  return add(denseJs(hidden, w('dense2/kernel'), w('dense2/bias')), denseJs(x, w('shortcut/kernel')));
}

/** The Deep InfoMax estimator for global codes g_i against codes[j][ℓ], with loops. */
function estimateJs(global: number[][], codes: number[][][], estimator: MiEstimator): number {
  const n = global.length;
  const scores = global.map((g) => codes.map((positions) => positions.map((l) => dot(g, l))));
  if (estimator === 'jsd') {
    const negatives: number[] = [];
    const positives: number[] = [];
    scores.forEach((row, i) =>
      row.forEach((positions, j) =>
        positions.forEach((u) => (i === j ? positives.push(softplus(-u)) : negatives.push(softplus(u)))),
      ),
    );
    return mean(negatives) + mean(positives);
  }
  const terms: number[] = [];
  for (let i = 0; i < n; i++) {
    const negatives = (scores[i] as number[][]).flatMap((positions, j) => (j === i ? [] : positions));
    for (const positive of (scores[i] as number[][])[i] as number[])
      terms.push(logSumExp([positive, ...negatives]) - positive);
  }
  return mean(terms);
}

function referenceMimkd(
  mi: MimkdRegularizer,
  student: Plain,
  teacher: Plain,
  estimator: MiEstimator,
  localWeight = 1,
  globalWeight = 1,
): number {
  const [n, h, w, c] = teacher.shape as [number, number, number, number];
  const gs = rows(mlpJs(mi, 'global/student', student));
  const lw = (name: string) => weightOf(mi, `local/teacher/${name}`);
  const hidden = map(
    batchNormJs(pointwiseJs(teacher, lw('conv1/kernel')), lw('batchNorm/gamma'), lw('batchNorm/beta')),
    relu,
  );
  const block = add(
    pointwiseJs(hidden, lw('conv2/kernel'), lw('conv2/bias')),
    pointwiseJs(teacher, lw('shortcut/kernel')),
  );
  const local = rows(layerNormJs(block, lw('layerNorm/gamma'), lw('layerNorm/beta')));
  const localCodes = Array.from({ length: n }, (_, j) => local.slice(j * h * w, (j + 1) * h * w));
  const pooled: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let ch = 0; ch < c; ch++) {
      let total = 0;
      for (let p = 0; p < h * w; p++) total += teacher.data[(j * h * w + p) * c + ch] as number;
      pooled.push(total / (h * w));
    }
  }
  const gt = rows(mlpJs(mi, 'global/teacher', { data: pooled, shape: [n, c] }));
  return (
    localWeight * estimateJs(gs, localCodes, estimator) +
    globalWeight *
      estimateJs(
        gs,
        gt.map((g) => [g]),
        estimator,
      )
  );
}

describeWithBackends('MimkdRegularizer', () => {
  for (const estimator of ['jsd', 'infonce'] as const) {
    it(`equals the Deep InfoMax ${estimator} local + global estimate computed with loops`, () => {
      const mi = new MimkdRegularizer({
        studentDim: 3,
        teacherChannels: 2,
        embedDim: 4,
        estimator,
        localWeight: 0.7,
        globalWeight: 1.3,
        seed: 4,
      });
      const student = randomTensor([3, 3], 1);
      const teacher = randomTensor([3, 2, 2, 2], 2, 0, 2);
      expectClose(
        scalarOf(mi.loss(student, teacher)),
        referenceMimkd(mi, plain(student), plain(teacher), estimator, 0.7, 1.3),
        { rtol: 2e-5 },
      );
      tf.dispose([student, teacher]);
      mi.dispose();
    });
  }

  it('initialises the shortcuts near the identity when embedDim ≥ the input size', () => {
    const mi = new MimkdRegularizer({ studentDim: 2, teacherChannels: 3, embedDim: 4, seed: 1 });
    const shortcut = weightOf(mi, 'global/student/shortcut/kernel').data;
    expect(shortcut[0]).toBe(1);
    expect(shortcut[5]).toBe(1);
    expect(Math.abs(shortcut[1] as number)).toBeLessThanOrEqual(0.01);
    mi.dispose();
  });

  it('sends gradients to every encoder, equal to finite differences', () => {
    const mi = new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, embedDim: 4, estimator: 'infonce', seed: 5 });
    const student = randomTensor([3, 3], 3);
    const teacher = randomTensor([3, 2, 2, 2], 4);
    const loss = () => mi.loss(student, teacher);
    expectGradientsReachEveryVariable(loss, mi.trainableVariables);
    for (const name of [
      'global/student/dense1/kernel',
      'local/teacher/conv1/kernel',
      'local/teacher/layerNorm/gamma',
      'global/teacher/shortcut/kernel',
    ]) {
      expectVariableGradientMatchesFiniteDifferences(loss, variableOf(mi, name), { maxElements: 4, step: 2e-3 });
    }
    expectMinimizeIsLeakFree(loss, mi.trainableVariables);
    tf.dispose([student, teacher]);
    mi.dispose();
  });

  it('is seeded, round-trips its weights and rejects bad options and inputs', async () => {
    const a = new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, embedDim: 4, seed: 8 });
    const b = new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, embedDim: 4, seed: 8 });
    const c = new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, embedDim: 4, seed: 9 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([3, 3], 5);
    const teacher = randomTensor([3, 2, 2, 2], 6);
    await expectRoundTrip(a, c, (mi) => mi.loss(student, teacher));
    expect(a.getConfig()).toEqual({
      studentDim: 3,
      teacherChannels: 2,
      embedDim: 4,
      estimator: 'jsd',
      localWeight: 1,
      globalWeight: 1,
      seed: 8,
    });
    expectThrowsWith(
      () => new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, estimator: 'dv' as never }),
      'MimkdRegularizer',
      'estimator',
      "'jsd', 'infonce'",
    );
    expectThrowsWith(
      () => new MimkdRegularizer({ studentDim: 3, teacherChannels: 2, localWeight: -1 }),
      'MimkdRegularizer',
      'localWeight',
    );
    const one = randomTensor([1, 3], 7);
    const oneTeacher = randomTensor([1, 2, 2, 2], 8);
    expectThrowsWith(() => a.loss(one, oneTeacher), 'MimkdRegularizer.loss', 'at least 2');
    expectThrowsWith(() => a.loss(student, student), 'MimkdRegularizer.loss', 'teacherFeature', 'rank 4');
    tf.dispose([student, teacher, one, oneTeacher]);
    [a, b, c].forEach((mi) => mi.dispose());
  });
});
