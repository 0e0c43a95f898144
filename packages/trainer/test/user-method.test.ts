/**
 * A method registered from outside the trainer's source, through the public index only: it trains through
 * distillStudent (values checked by hand), its head is trained and checkpointed, a killed run resumes to the
 * weights of an uninterrupted one, and listMethods() shows it.
 */
import { RegularizerBase, type RegularizerConfig } from '@kd/losses';
import { describeWithBackends, expectClose, expectThrowsWith, seededRandom, tf } from '@kd/test-utils';
import {
  MemoryStore,
  distillStudent,
  listMethods,
  readCheckpoint,
  registerMethod,
  type ObjectiveSpec,
} from '@kd/trainer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { snapshot, syntheticDataset, tinyModel } from './fixtures';

declare module '@kd/trainer' {
  interface MethodOptionsMap {
    pooledProjection: { scale?: number };
  }
}

/** A linear map W s + b from the student's pooled vector onto the teacher's, trained with the student. */
class PooledProjection extends RegularizerBase {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly studentDim: number,
    readonly teacherDim: number,
    readonly seed: number,
  ) {
    super('PooledProjection');
    const random = seededRandom(seed);
    const values = Float32Array.from({ length: studentDim * teacherDim }, () => random() - 0.5);
    this.weight = this.addVariable('weight', values, [studentDim, teacherDim]);
    this.bias = this.addVariable('bias', new Float32Array(teacherDim), [teacherDim]);
    this.markBuilt(); // its sizes are known: the variables exist from the start
  }

  getConfig(): RegularizerConfig {
    return { studentDim: this.studentDim, teacherDim: this.teacherDim, seed: this.seed };
  }

  /** mean over the batch and the teacher's dimensions of (W s + b − t)². */
  loss(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() =>
      tf.mean(tf.squaredDifference(tf.add(tf.matMul(student, this.weight as tf.Tensor2D), this.bias), teacher)),
    );
  }
}

/** The weights of the head each run created, copied when it was built. */
const initialWeights: Float32Array[] = [];

registerMethod('pooledProjection', {
  summary: "MSE between a trained projection of the student's pooled vector and the teacher's",
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: { scale: 'multiplies the term (default 1)' },
  create(context, { scale = 1 }) {
    const head = new PooledProjection(context.student.pooled[1]!, context.teacher.pooled[1]!, context.seed);
    initialWeights.push((head.weight.dataSync() as Float32Array).slice());
    return {
      heads: [head],
      loss: ({ student, teacher }) => tf.tidy(() => tf.mul(scale, head.loss(student.pooled, teacher.pooled))),
    };
  },
});

const train = syntheticDataset({ count: 16, seed: 41 });
const quiet = { progress: false as const, augmentation: false as const, measureTeacherCmi: false };
const objectives: ObjectiveSpec[] = [
  { method: 'ce', weight: 1 },
  { method: 'pooledProjection', weight: 2, options: { scale: 3 } },
];

/** (1/(N·D_t)) Σ_n Σ_j ((s W + b)_nj − t_nj)², with plain loops. */
function projectionLoss(
  s: Float32Array,
  t: Float32Array,
  weight: Float32Array,
  n: number,
  ds: number,
  dt: number,
): number {
  let sum = 0;
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < dt; j++) {
      let projected = 0; // the bias starts at zero
      for (let i = 0; i < ds; i++) projected += s[row * ds + i]! * weight[i * dt + j]!;
      sum += (projected - t[row * dt + j]!) ** 2;
    }
  }
  return sum / (n * dt);
}

describeWithBackends('a method registered by the user', () => {
  let teacher: ReturnType<typeof tinyModel>;
  beforeAll(() => {
    teacher = tinyModel({ seed: 42, width: 4, name: 'teacher' }); // pooled [N, 8]
  });
  afterAll(() => teacher.dispose());

  it('is listed by listMethods() with its summary, the features it reads and its options', () => {
    const entry = listMethods().find(({ name }) => name === 'pooledProjection');
    expect(entry).toEqual({
      name: 'pooledProjection',
      summary: "MSE between a trained projection of the student's pooled vector and the teacher's",
      reads: { student: ['pooled'], teacher: ['pooled'] },
      options: { scale: 'multiplies the term (default 1)' },
      referenceWeights: undefined,
    });
    expect(listMethods().at(-1)!.name).toBe('pooledProjection');
  });

  it('gives distillStudent β·scale·mean((W s + b − t)²) of the initial head, by hand', async () => {
    const student = tinyModel({ seed: 43, width: 2, name: 'student' }); // pooled [N, 4]
    try {
      // lr 0 and one full batch: the reported term is that of the initial head and student.
      const before = initialWeights.length;
      const result = await distillStudent({
        student,
        teacher,
        data: { train },
        epochs: 1,
        batchSize: 16,
        learningRate: 0,
        seed: 5,
        objectives,
        ...quiet,
      });
      const weight = initialWeights[before]!;
      const [s, t] = tf.tidy(() => {
        const images = tf.div(tf.tensor4d(train.images, [16, 8, 8, 1], 'float32'), 255) as tf.Tensor4D;
        return [
          student.apply(images, { training: true }).pooled!.dataSync(),
          teacher.apply(images, { training: false }).pooled!.dataSync(),
        ];
      }) as unknown as [Float32Array, Float32Array];
      expectClose(result.history[0]!.train.losses.pooledProjection!, 2 * 3 * projectionLoss(s, t, weight, 16, 4, 8), {
        rtol: 1e-5,
      });
    } finally {
      student.dispose();
    }
  });

  it("trains: the term falls and the head's weights move, and a killed run resumes to the same weights", async () => {
    const common = {
      teacher,
      data: { train },
      objectives,
      epochs: 3,
      batchSize: 4,
      learningRate: 0.05,
      seed: 7,
      ...quiet,
    };
    const reference = tinyModel({ seed: 44, width: 2, name: 'student' });
    const referenceStore = new MemoryStore();
    const before = initialWeights.length;
    const uninterrupted = await distillStudent({ ...common, student: reference, store: referenceStore });
    const expectedStudent = snapshot(reference);
    reference.dispose();
    const losses = uninterrupted.history.map((epoch) => epoch.train.losses.pooledProjection!);
    expect(losses[2]).toBeLessThan(0.8 * losses[0]!);
    const referenceCheckpoint = (await readCheckpoint(referenceStore))!;
    const trainedHead = referenceCheckpoint.tensors.get('head/0/weight')!.dataSync() as Float32Array;
    const initialHead = initialWeights[before]!;
    expect(trainedHead.length).toBe(initialHead.length);
    expect(Math.max(...trainedHead.map((value, index) => Math.abs(value - initialHead[index]!)))).toBeGreaterThan(1e-3);

    const store = new MemoryStore();
    const killed = tinyModel({ seed: 44, width: 2, name: 'student' });
    await expect(
      distillStudent({
        ...common,
        student: killed,
        store,
        onStepEnd: (info) => {
          if (info.epoch === 2 && info.step === 2) throw new Error('simulated kill');
        },
      }),
    ).rejects.toThrow('simulated kill');
    killed.dispose();
    const resumedModel = tinyModel({ seed: 99, width: 2, name: 'student' }); // another init: the checkpoint must win
    try {
      const resumed = await distillStudent({ ...common, student: resumedModel, store, resume: true });
      expect(resumed.record.resumedFromEpochs).toEqual([1]);
      expect(snapshot(resumedModel)).toEqual(expectedStudent);
      const resumedCheckpoint = (await readCheckpoint(store))!;
      for (const key of ['head/0/weight', 'head/0/bias']) {
        expect(Array.from(resumedCheckpoint.tensors.get(key)!.dataSync()), key).toEqual(
          Array.from(referenceCheckpoint.tensors.get(key)!.dataSync()),
        );
      }
      expect(resumed.history.map((epoch) => epoch.train.losses.pooledProjection)).toEqual(losses);
      tf.dispose([...resumedCheckpoint.tensors.values()]);
    } finally {
      resumedModel.dispose();
      tf.dispose([...referenceCheckpoint.tensors.values()]);
    }
  });

  it('is refused, naming the feature, when a model lacks what it reads', async () => {
    const student = tinyModel({ seed: 45, width: 2, name: 'student' });
    const noPooled = {
      ...teacher,
      apply: (images: tf.Tensor4D, options: { training: boolean }) => {
        const { pooled, ...rest } = teacher.apply(images, options);
        pooled?.dispose();
        return { ...rest, features: rest.features.slice(0, -1) };
      },
    };
    try {
      await expect(
        distillStudent({ student, teacher: noPooled, data: { train }, epochs: 1, objectives, ...quiet }),
      ).rejects.toThrow(
        "distillStudent: objectives[1] ('pooledProjection') needs the teacher's pooled " +
          '(the pooled penultimate vector [N, D]), ' +
          'but teacher.apply returned none',
      );
    } finally {
      student.dispose();
    }
  });
});

describeWithBackends('registerMethod: duplicate names and invalid definitions', () => {
  const valid = {
    summary: 'a valid definition',
    reads: { student: [], teacher: [] },
    options: {},
    create: () => ({ loss: () => tf.scalar(0) }),
  };

  it('refuses a name already registered, built-in or not', () => {
    expectThrowsWith(
      () => registerMethod('kd', valid as never),
      "registerMethod: method 'kd' is already registered " +
        '(Hinton KD, T²·KL(softmax(t/T) ‖ softmax(s/T)), T = 4); pick another name',
    );
    expectThrowsWith(
      () => registerMethod('pooledProjection', valid as never),
      "registerMethod: method 'pooledProjection' is already registered",
    );
  });

  it('refuses a malformed name or definition, naming the field, and registers nothing', () => {
    const count = listMethods().length;
    const register = (name: string, definition: unknown) => () => registerMethod(name as never, definition as never);
    expectThrowsWith(
      register('two words', valid),
      "registerMethod: name must be a letter followed by letters, digits, '_' or '-', got 'two words'",
    );
    expectThrowsWith(register('', valid), 'registerMethod: name must be a letter');
    expectThrowsWith(
      register('noDefinition', undefined),
      "registerMethod: definition of 'noDefinition' must be an object",
    );
    expectThrowsWith(
      register('typo', { ...valid, summery: 'x' }),
      "registerMethod: unknown option 'summery' in definition, did you mean 'summary'?",
    );
    expectThrowsWith(
      register('noSummary', { ...valid, summary: '' }),
      'registerMethod: definition.summary must be one non-empty line',
    );
    expectThrowsWith(
      register('twoLines', { ...valid, summary: 'a\nb' }),
      'registerMethod: definition.summary must be one non-empty line',
    );
    expectThrowsWith(
      register('badRead', { ...valid, reads: { student: ['pool'], teacher: [] } }),
      "registerMethod: definition.reads.student[0] 'pool' (a string) is not a feature name, did you mean 'pooled'?",
    );
    expectThrowsWith(
      register('noTeacher', { ...valid, reads: { student: [] } }),
      'registerMethod: definition.reads.teacher must be an array of feature names',
    );
    expectThrowsWith(
      register('badOption', { ...valid, options: { scale: 1 } }),
      'registerMethod: definition.options.scale must be a description (a non-empty string), got 1',
    );
    expectThrowsWith(
      register('badWeights', { ...valid, referenceWeights: { gamma: 1, alpha: 0, beta: -1 } }),
      'registerMethod: definition.referenceWeights.beta must be a finite number >= 0, got -1',
    );
    expectThrowsWith(
      register('noCreate', { ...valid, create: 'x' }),
      'registerMethod: definition.create must be a function',
    );
    expect(listMethods().length).toBe(count);
  });
});
