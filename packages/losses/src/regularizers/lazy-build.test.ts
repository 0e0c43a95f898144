import { describeWithBackends, expectThrowsWith, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { expectMinimizeIsLeakFree, expectSameWeights, lossValue } from './__fixtures__/helpers';
import { CorrelationCongruenceRegularizer } from './correlation-congruence-regularizer';
import { CrdRegularizer } from './crd-regularizer';
import { FactorTransferRegularizer } from './factor-transfer-regularizer';
import { FitNetRegularizer } from './fitnet-regularizer';
import { IcdRegularizer } from './icd-regularizer';
import { MimkdRegularizer } from './mimkd-regularizer';
import type { RegularizerBase } from './regularizer';
import { VidLpRegularizer } from './vid-lp-regularizer';
import { VidRegularizer } from './vid-regularizer';
import { VidVectorRegularizer } from './vid-vector-regularizer';

const LABELS = Array.from({ length: 12 }, (_, index) => index % 3);
const INDICES = Int32Array.of(0, 4, 7);
const CRD = { embedDim: 5, datasetSize: 12, labels: LABELS, numNegatives: 4 };

interface Case {
  name: string;
  /** Every size given. */
  eager: (seed: number) => RegularizerBase;
  /** The same options without the sizes. */
  lazy: (seed: number) => RegularizerBase;
  /** Student and teacher inputs of `loss()`. */
  shapes: [number[], number[]];
  /** A student input whose size differs from `shapes[0]`. */
  otherStudent: number[];
  /** One `loss()` call (with the side effects undone). */
  loss: (regularizer: RegularizerBase, student: tf.Tensor, teacher: tf.Tensor) => tf.Scalar;
  /** Whether saved weights determine the sizes of a `lazy` head. */
  loadable: boolean;
}

type Loss = { loss: (student: tf.Tensor, teacher: tf.Tensor) => tf.Scalar };
const plainLoss = (regularizer: RegularizerBase, student: tf.Tensor, teacher: tf.Tensor): tf.Scalar =>
  (regularizer as unknown as Loss).loss(student, teacher);

const CASES: Case[] = [
  {
    name: 'VidRegularizer',
    eager: (seed) => new VidRegularizer({ studentChannels: 3, teacherChannels: 4, seed }),
    lazy: (seed) => new VidRegularizer({ seed }),
    shapes: [
      [2, 3, 3, 3],
      [2, 3, 3, 4],
    ],
    otherStudent: [2, 3, 3, 2],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'VidRegularizer',
    eager: (seed) => new VidRegularizer({ studentChannels: 3, teacherChannels: 4, hiddenChannels: 6, seed }),
    lazy: (seed) => new VidRegularizer({ hiddenChannels: 6, seed }),
    shapes: [
      [2, 2, 2, 3],
      [2, 2, 2, 4],
    ],
    otherStudent: [2, 2, 2, 5],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'VidLpRegularizer',
    eager: (seed) => new VidLpRegularizer({ studentDim: 3, teacherDim: 4, seed }),
    lazy: (seed) => new VidLpRegularizer({ seed }),
    shapes: [
      [4, 3],
      [4, 4],
    ],
    otherStudent: [4, 5],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'VidVectorRegularizer',
    eager: (seed) => new VidVectorRegularizer({ studentDim: 3, teacherShape: [2, 2, 3], seed }),
    lazy: (seed) => new VidVectorRegularizer({ seed }),
    shapes: [
      [2, 3],
      [2, 2, 2, 3],
    ],
    otherStudent: [2, 4],
    loss: plainLoss,
    loadable: false,
  },
  {
    name: 'VidVectorRegularizer',
    eager: (seed) => new VidVectorRegularizer({ studentDim: 3, teacherShape: [2, 2, 3], seed }),
    lazy: (seed) => new VidVectorRegularizer({ teacherShape: [2, 2, 3], seed }),
    shapes: [
      [2, 3],
      [2, 2, 2, 3],
    ],
    otherStudent: [2, 4],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'CrdRegularizer',
    eager: (seed) => new CrdRegularizer({ ...CRD, studentDim: 3, teacherDim: 4, seed }),
    lazy: (seed) => new CrdRegularizer({ ...CRD, seed }),
    shapes: [
      [3, 3],
      [3, 4],
    ],
    otherStudent: [3, 2],
    loss: (regularizer, student, teacher) => {
      const crd = regularizer as CrdRegularizer;
      const value = crd.loss(student, teacher, INDICES);
      crd.discardPendingUpdate();
      return value;
    },
    loadable: true,
  },
  {
    name: 'IcdRegularizer',
    eager: (seed) => new IcdRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed }),
    lazy: (seed) => new IcdRegularizer({ embedDim: 5, seed }),
    shapes: [
      [4, 3],
      [4, 4],
    ],
    otherStudent: [4, 2],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'MimkdRegularizer',
    eager: (seed) => new MimkdRegularizer({ studentDim: 3, teacherChannels: 4, embedDim: 5, seed }),
    lazy: (seed) => new MimkdRegularizer({ embedDim: 5, seed }),
    shapes: [
      [3, 3],
      [3, 2, 2, 4],
    ],
    otherStudent: [3, 6],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'FitNetRegularizer',
    eager: (seed) => new FitNetRegularizer({ studentShape: [4, 4, 3], teacherShape: [2, 2, 5], seed }),
    lazy: (seed) => new FitNetRegularizer({ seed }),
    shapes: [
      [2, 4, 4, 3],
      [2, 2, 2, 5],
    ],
    otherStudent: [2, 4, 4, 2],
    loss: plainLoss,
    loadable: false,
  },
  {
    name: 'CorrelationCongruenceRegularizer',
    eager: (seed) => new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 4, embedDim: 5, seed }),
    lazy: (seed) => new CorrelationCongruenceRegularizer({ embedDim: 5, seed }),
    shapes: [
      [4, 3],
      [4, 4],
    ],
    otherStudent: [4, 7],
    loss: plainLoss,
    loadable: true,
  },
  {
    name: 'FactorTransferRegularizer',
    eager: (seed) => new FactorTransferRegularizer({ studentChannels: 3, teacherChannels: 4, seed }),
    lazy: (seed) => new FactorTransferRegularizer({ seed }),
    shapes: [
      [2, 3, 3, 3],
      [2, 3, 3, 4],
    ],
    otherStudent: [2, 3, 3, 2],
    loss: plainLoss,
    loadable: true,
  },
];

function inputs(testCase: Case): [tf.Tensor, tf.Tensor] {
  return [randomTensor(testCase.shapes[0], 1), randomTensor(testCase.shapes[1], 2)];
}

describeWithBackends('regularizers built on first use', () => {
  CASES.forEach((testCase, index) => {
    const { name } = testCase;

    it(`${name} (case ${index}): the first loss() call builds exactly the head the explicit sizes build`, async () => {
      const eager = testCase.eager(11);
      const lazy = testCase.lazy(11);
      expect(eager.built).toBe(true);
      expect(lazy.built).toBe(false);
      expect(lazy.trainableVariables).toEqual([]);
      expect(lazy.nonTrainableVariables).toEqual([]);
      await expect(lazy.saveWeights()).rejects.toThrow(`${name}.saveWeights: this ${name} is not built yet`);
      const [student, teacher] = inputs(testCase);
      const expected = lossValue(() => testCase.loss(eager, student, teacher));
      // the same float32 operations on the same initial values: bit-for-bit the same loss
      expect(lossValue(() => testCase.loss(lazy, student, teacher))).toBe(expected);
      expect(lazy.built).toBe(true);
      expectSameWeights(lazy, eager);
      expect(lazy.weightNames).toEqual(eager.weightNames);
      expect(lazy.getConfig()).toEqual(eager.getConfig());
      expect(lossValue(() => testCase.loss(lazy, student, teacher))).toBe(
        lossValue(() => testCase.loss(eager, student, teacher)),
      );
      tf.dispose([student, teacher]);
      lazy.dispose();
      eager.dispose();
    });

    it(`${name} (case ${index}): a later call with another size names the inferred size`, () => {
      const lazy = testCase.lazy(3);
      const [student, teacher] = inputs(testCase);
      lossValue(() => testCase.loss(lazy, student, teacher));
      const other = randomTensor(testCase.otherStudent, 4);
      const origin = 'inferred from the first loss() call';
      expectThrowsWith(() => testCase.loss(lazy, other, teacher), `${name}.loss`, origin);
      tf.dispose([student, teacher, other]);
      lazy.dispose();
    });

    it(`${name} (case ${index}): build() creates the same variables without a loss, and checks later shapes`, () => {
      const eager = testCase.eager(5);
      const lazy = testCase.lazy(5);
      const [studentShape, teacherShape] = testCase.shapes;
      lazy.build({ student: studentShape, teacher: teacherShape });
      expect(lazy.built).toBe(true);
      expectSameWeights(lazy, eager);
      const variables = lazy.trainableVariables;
      // a second build with fitting shapes (another batch size) is a no-op
      lazy.build({ student: [7, ...studentShape.slice(1)], teacher: [7, ...teacherShape.slice(1)] });
      expect(lazy.trainableVariables).toEqual(variables);
      const fn = `${name}.build`;
      const other = testCase.otherStudent;
      expectThrowsWith(() => lazy.build({ student: other, teacher: teacherShape }), fn, 'student input');
      expectThrowsWith(() => eager.build({ student: other, teacher: teacherShape }), fn, 'student input');
      const lowRank = teacherShape.slice(1);
      expectThrowsWith(() => lazy.build({ student: studentShape, teacher: lowRank }), fn, 'teacher input', 'rank');
      expectThrowsWith(() => lazy.build({ student: studentShape, techer: teacherShape } as never), fn, "'techer'");
      expectThrowsWith(() => testCase.lazy(5).build({ student: [2, -1], teacher: teacherShape }), fn, 'shapes.student');
      const [student, teacher] = inputs(testCase);
      expect(lossValue(() => testCase.loss(lazy, student, teacher))).toBe(
        lossValue(() => testCase.loss(eager, student, teacher)),
      );
      tf.dispose([student, teacher]);
      lazy.dispose();
      eager.dispose();
    });

    const loadable = testCase.loadable ? '' : ' (or cannot)';
    const loadTitle = `loadWeights into an unbuilt head builds it from the saved shapes${loadable}`;
    it(`${name} (case ${index}): ${loadTitle}`, async () => {
      const source = testCase.eager(8);
      const artifacts = await source.saveWeights();
      const target = testCase.lazy(9);
      if (testCase.loadable) {
        target.loadWeights(artifacts);
        expect(target.built).toBe(true);
        expectSameWeights(target, source);
        expect(target.getConfig()).toEqual({ ...source.getConfig(), seed: 9 });
      } else {
        const fn = `${name}.loadWeights`;
        expectThrowsWith(() => target.loadWeights(artifacts), fn, 'not built yet', 'saved shapes do not determine');
        expect(target.built).toBe(false);
        const [studentShape, teacherShape] = testCase.shapes;
        target.build({ student: studentShape, teacher: teacherShape });
        target.loadWeights(artifacts);
        expectSameWeights(target, source);
      }
      target.dispose();
      source.dispose();
    });
  });

  it('methods that need the variables say so before the head is built', () => {
    const fitnet = new FitNetRegularizer({ seed: 1 });
    const feature = randomTensor([2, 4, 4, 3], 1);
    const hint = 'build({ student, teacher })';
    expectThrowsWith(() => fitnet.regress(feature), 'FitNetRegularizer.regress', 'not built yet', hint);
    expectThrowsWith(() => fitnet.regressorKind, 'FitNetRegularizer.regressorKind', 'not built yet');
    const ft = new FactorTransferRegularizer({ seed: 1 });
    expect(ft.paraphraserVariables).toEqual([]);
    const fn = 'FactorTransferRegularizer.reconstructionLoss';
    expectThrowsWith(() => ft.reconstructionLoss(feature), fn, 'not built yet');
    expectThrowsWith(() => ft.factorChannels, 'FactorTransferRegularizer.factorChannels', 'not built yet');
    const vid = new VidRegularizer({ seed: 1 });
    expectThrowsWith(() => vid.variance(), 'VidRegularizer.variance', 'not built yet');
    expect(vid.getConfig()).toEqual({ initialVariance: 5, epsilon: 1e-5, seed: 1 });
    tf.dispose(feature);
    [fitnet, ft, vid].forEach((regularizer) => regularizer.dispose());
  });

  it('a partly given size must fit the first call', () => {
    const vid = new VidRegularizer({ studentChannels: 3, seed: 1 });
    expect(vid.built).toBe(false);
    const student = randomTensor([2, 2, 2, 4], 1);
    const teacher = randomTensor([2, 2, 2, 5], 2);
    expectThrowsWith(() => vid.loss(student, teacher), 'VidRegularizer.loss', 'C_s = 3, got [2,2,2,4]');
    expect(vid.built).toBe(false);
    tf.dispose([student, teacher]);
    vid.dispose();
  });

  it('checkValues and warnIfUntrained go together: a lazy head skips the NaN check yet names its inferred sizes', () => {
    const vid = new VidRegularizer({ seed: 1, checkValues: false, warnIfUntrained: false });
    expect(vid.getConfig()).toEqual({ initialVariance: 5, epsilon: 1e-5, seed: 1, warnIfUntrained: false });
    const student = randomTensor([2, 2, 2, 3], 1);
    const teacher = tf.fill([2, 2, 2, 4], Number.NaN);
    // values unchecked: the NaN teacher gives a NaN loss instead of an error, and the head is built from it
    expect(Number.isNaN(lossValue(() => vid.loss(student, teacher)))).toBe(true);
    expect(vid.built).toBe(true);
    const other = randomTensor([2, 2, 2, 5], 2);
    const origin = 'C_s = 3 (sizes inferred from the first loss() call), got [2,2,2,5]';
    expectThrowsWith(() => vid.loss(other, teacher), 'VidRegularizer.loss', origin);
    expectThrowsWith(() => new VidRegularizer({ checkValue: false } as never), 'VidRegularizer', 'checkValues');
    tf.dispose([student, teacher, other]);
    vid.dispose();
  });

  it('a head built inside the first optimizer step keeps the tensor count flat afterwards', () => {
    const vid = new VidRegularizer({ seed: 2 });
    const initial = randomTensor([2, 3, 3, 3], 1);
    const student = tf.variable(initial);
    initial.dispose();
    const teacher = randomTensor([2, 3, 3, 4], 2);
    const loss = (): tf.Scalar => vid.loss(student, teacher);
    const optimizer = tf.train.sgd(0.05);
    optimizer.minimize(loss, false, [student]);
    optimizer.dispose();
    expect(vid.built).toBe(true);
    expectMinimizeIsLeakFree(loss, [student, ...vid.trainableVariables]);
    tf.dispose([student, teacher]);
    vid.dispose();
  });
});
