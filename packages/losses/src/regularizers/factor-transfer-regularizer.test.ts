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
  batchNormJs,
  conv2dJs,
  conv2dTransposeJs,
  leakyRelu,
  map,
  mean,
  normalizeRow,
  plain,
} from './__fixtures__/reference';
import { FactorTransferRegularizer } from './factor-transfer-regularizer';

function encoderJs(ft: FactorTransferRegularizer, teacher: Plain): Plain {
  const extra = ft.paraphraserVariables;
  return [1, 2, 3].reduce((x, layer) => {
    const w = (name: string) => weightOf(ft, `paraphraser/encoder${layer}/${name}`, extra);
    return map(conv2dJs(x, w('kernel'), w('bias'), 1, 1), leakyRelu);
  }, teacher);
}

function translatorJs(ft: FactorTransferRegularizer, student: Plain): Plain {
  return [1, 2, 3].reduce((x, layer) => {
    const w = (name: string) => weightOf(ft, `translator/conv${layer}/${name}`);
    return map(
      batchNormJs(conv2dJs(x, w('kernel'), w('bias'), 1, 1), w('batchNorm/gamma'), w('batchNorm/beta')),
      leakyRelu,
    );
  }, student);
}

/** Per sample: the spatial map mean_c(f²), L2-normalised over positions. */
function factorMap(factor: Plain): number[] {
  const [n, h, w, c] = factor.shape as [number, number, number, number];
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const positions: number[] = [];
    for (let p = 0; p < h * w; p++) {
      let total = 0;
      for (let ch = 0; ch < c; ch++) total += (factor.data[(b * h * w + p) * c + ch] as number) ** 2;
      positions.push(total / c);
    }
    out.push(...normalizeRow(positions));
  }
  return out;
}

describeWithBackends('FactorTransferRegularizer', () => {
  it('equals mean |a(translator(s)) − a(encoder(t))| and the reconstruction MSE computed with loops', () => {
    const ft = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 4, seed: 1 });
    expect(ft.factorChannels).toBe(2);
    const student = randomTensor([2, 3, 3, 2], 1);
    const teacher = randomTensor([2, 3, 3, 4], 2, 0, 1);
    const as = factorMap(translatorJs(ft, plain(student)));
    const at = factorMap(encoderJs(ft, plain(teacher)));
    expectClose(
      scalarOf(ft.loss(student, teacher)),
      mean(as.map((value, index) => Math.abs(value - (at[index] as number)))),
      { rtol: 1e-4 },
    );

    const extra = ft.paraphraserVariables;
    const reconstruction = [1, 2, 3].reduce(
      (x, layer) => {
        const w = (name: string) => weightOf(ft, `paraphraser/decoder${layer}/${name}`, extra);
        return map(conv2dTransposeJs(x, w('kernel'), w('bias'), 1, 1), leakyRelu);
      },
      encoderJs(ft, plain(teacher)),
    );
    const target = Array.from(teacher.dataSync());
    expectClose(
      scalarOf(ft.reconstructionLoss(teacher)),
      mean(reconstruction.data.map((value, index) => (value - (target[index] as number)) ** 2)),
      { rtol: 1e-5 },
    );
    tf.dispose([student, teacher]);
    ft.dispose();
  });

  it('trains only the translator in the main stage (zero gradient to the paraphraser) and the paraphraser in the pre-stage', () => {
    const ft = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 2, rate: 1, seed: 3 });
    const student = randomTensor([2, 2, 2, 2], 3);
    const teacher = randomTensor([2, 2, 2, 2], 4, 0, 1);
    const loss = () => ft.loss(student, teacher);
    expect(ft.trainableVariables.every((variable) => variable.name.includes('/translator/'))).toBe(true);
    expect(ft.paraphraserVariables.every((variable) => variable.name.includes('/paraphraser/'))).toBe(true);
    expectGradientsReachEveryVariable(loss, ft.trainableVariables);
    expectVariableGradientMatchesFiniteDifferences(loss, variableOf(ft, 'translator/conv1/kernel'), {
      maxElements: 5,
      step: 2e-3,
    });
    const { value, grads } = tf.variableGrads(loss, ft.paraphraserVariables.slice(0, 2));
    for (const gradient of Object.values(grads)) expect(gradient.dataSync().every((entry) => entry === 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    const reconstruction = () => ft.reconstructionLoss(teacher);
    expectGradientsReachEveryVariable(reconstruction, ft.paraphraserVariables);
    expectVariableGradientMatchesFiniteDifferences(
      reconstruction,
      variableOf(ft, 'paraphraser/decoder1/kernel', ft.paraphraserVariables),
      {
        maxElements: 5,
        step: 2e-3,
      },
    );
    expectMinimizeIsLeakFree(loss, ft.trainableVariables);
    expectMinimizeIsLeakFree(reconstruction, ft.paraphraserVariables);
    tf.dispose([student, teacher]);
    ft.dispose();
  });

  it('is seeded, round-trips paraphraser and translator weights and rejects bad inputs', async () => {
    const a = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 2, seed: 3 });
    const b = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 2, seed: 3 });
    const c = new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 2, seed: 4 });
    expectSameWeights(a, b);
    expectDifferentWeights(a, c);
    const student = randomTensor([2, 2, 2, 2], 5);
    const teacher = randomTensor([2, 2, 2, 2], 6, 0, 1);
    await expectRoundTrip(a, c, (ft) => tf.add(ft.loss(student, teacher), ft.reconstructionLoss(teacher)) as tf.Scalar);
    expect(a.weightNames.length).toBe(6 * 2 + 3 * 4);
    expectThrowsWith(
      () => new FactorTransferRegularizer({ studentChannels: 2, teacherChannels: 1 }),
      'FactorTransferRegularizer',
      'factor channel',
    );
    const wrong = randomTensor([2, 2, 2, 3], 7);
    expectThrowsWith(() => a.loss(wrong, teacher), 'FactorTransferRegularizer.loss', 'studentFeature');
    expectThrowsWith(
      () => a.reconstructionLoss(wrong),
      'FactorTransferRegularizer.reconstructionLoss',
      'teacherFeature',
    );
    tf.dispose([student, teacher, wrong]);
    [a, b, c].forEach((ft) => ft.dispose());
  });
});
