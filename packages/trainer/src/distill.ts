import * as tf from '@tensorflow/tfjs-core';
import type { Regularizer } from '@kd/losses';
import type { KdModel, ModelOutput } from '@kd/models';
import type { Batch } from '@kd/data';
import { releaseBatch } from './data';
import { measureClassConditionalStatistics } from './eval/cmi';
import { evaluateModel } from './eval/evaluate';
import { runTraining, type LoopSettings, type TrainingResult, type TrainingTask } from './engine/loop';
import { collectModel, describeModel, hashVariables, restoreModel } from './engine/model-state';
import {
  COMMON_KEYS,
  assertModel,
  assertModelFitsData,
  defaultLearningRate,
  offsetSeed,
  describeSettings,
  resolveCommonOptions,
  type CommonTrainingOptions,
} from './engine/options';
import type { JsonValue } from './io/checkpoint';
import { prefixedStore } from './io/store';
import { assertReads, readFeatures, readShapes } from './objectives/features';
import {
  hasMethod,
  methodDefinition,
  referenceObjectives,
  unknownMethodMessage,
  type RegisteredMethod,
} from './objectives/registry';
import type { LossInputs, MethodInstance, ObjectiveSpec } from './objectives/types';
import { assertGradientsRegistered, assertKnownOptions } from '@kd/internal';
import { assertBoolean, assertNumber, assertObject, describeValue } from './validate';

/** Options of {@link distillStudent}. */
export interface DistillStudentOptions extends CommonTrainingOptions {
  /** The student (trained in place). */
  student: KdModel;
  /** The teacher: run in inference mode outside the gradient closure, never updated. */
  teacher: KdModel;
  /**
   * Weighted terms of the loss, L = Σ weight·method. Default RepDistiller's KD recipe:
   * `[{ method: 'ce', weight: 0.1 }, { method: 'kd', weight: 0.9 }]`. Any number of methods, built-in or
   * registered with `registerMethod`; `listMethods()` describes them. Each entry's `options` is typed by
   * the method (`MethodOptionsMap`).
   */
  objectives?: ObjectiveSpec[];
  /** Measure the teacher's CMI on the training set once (eval mode) into `extra.teacherCmi`. Default true. */
  measureTeacherCmi?: boolean;
}

/** A regularizer's weights as checkpoint tensors named `<prefix>/<weight name>`. */
async function headTensors(head: Regularizer, prefix: string, into: Map<string, tf.Tensor>): Promise<tf.Tensor[]> {
  const { data, specs } = await head.saveWeights();
  const decoded = tf.io.decodeWeights(data, specs);
  for (const [name, tensor] of Object.entries(decoded)) into.set(`${prefix}/${name}`, tensor);
  return Object.values(decoded);
}

async function restoreHead(
  fn: string,
  head: Regularizer,
  prefix: string,
  tensors: Map<string, tf.Tensor>,
): Promise<void> {
  const named = [...tensors.entries()]
    .filter(([key]) => key.startsWith(`${prefix}/`))
    .map(([key, tensor]) => ({ name: key.slice(prefix.length + 1), tensor }));
  if (named.length === 0) throw new Error(`${fn}: the checkpoint lacks the weights of ${prefix}`);
  const { data, specs } = await tf.io.encodeWeights(named);
  try {
    head.loadWeights({ data: data as ArrayBuffer, specs });
  } catch (error) {
    throw new Error(`${fn}: cannot restore ${prefix} from the checkpoint: ${(error as Error).message}`);
  }
}

/** One objective, validated, with its registered method. */
interface Objective {
  method: string;
  weight: number;
  options: Record<string, unknown>;
  definition: RegisteredMethod;
}

/** A created method: its instance with the defaults filled in, and the features it reads. */
interface Term {
  definition: RegisteredMethod;
  heads: Regularizer[];
  inMainStage: boolean;
  instance: MethodInstance;
}

/** What a method's loss gets: only the features it declared in `reads`. */
function lossInputs(
  definition: RegisteredMethod,
  student: ModelOutput,
  teacher: ModelOutput,
  batch: { labels: tf.Tensor1D; indices: Int32Array },
  epoch: number,
): LossInputs {
  return {
    student: readFeatures(student, definition.reads.student),
    teacher: readFeatures(teacher, definition.reads.teacher),
    labels: batch.labels,
    indices: batch.indices,
    epoch,
  };
}

/** Two training images as the loader would give them (no augmentation), to read output shapes. */
async function probeBatch(settings: LoopSettings): Promise<Batch> {
  const batches = settings.loader(settings.train, {
    batchSize: 2,
    shuffle: false,
    seed: 0,
    dropLast: false,
    augment: false,
    epoch: 1,
  });
  for await (const batch of batches) return batch;
  throw new Error('distillStudent: data.train yielded no batch');
}

function validateObjectives(fn: string, value: unknown): Objective[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error(
      `${fn}: objectives must be a non-empty array of { method, weight, options }, got ${describeValue(value)}`,
    );
  }
  return value.map((entry, index) => {
    const where = `objectives[${index}]`;
    const spec = assertObject(fn, where, entry);
    assertKnownOptions(fn, spec, ['method', 'weight', 'options'], where);
    const method = spec.method;
    if (typeof method !== 'string' || !hasMethod(method)) {
      throw new Error(`${fn}: ${where}.${unknownMethodMessage(method)}`);
    }
    if (typeof spec.weight !== 'number') {
      throw new Error(`${fn}: ${where}.weight must be a number, got ${describeValue(spec.weight)}`);
    }
    assertNumber(fn, `${where}.weight`, spec.weight);
    const options = spec.options === undefined ? {} : assertObject(fn, `${where}.options`, spec.options);
    const definition = methodDefinition(method) as RegisteredMethod;
    assertKnownOptions(fn, options, Object.keys(definition.options), `${where}.options ('${method}')`);
    return { method, weight: spec.weight, options, definition };
  });
}

/**
 * Distils a student from a frozen teacher with any weighted combination of objectives (RepDistiller's
 * `train_student.py`):
 *
 *   L = Σ_k w_k · L_k(student, teacher),  e.g. γ·CE + α·KD + β·VID
 *
 * The teacher runs in inference mode outside the gradient closure, so no gradient reaches it and it is never
 * updated (its variables are not in the optimiser, so weight decay never touches them either). Regularizer
 * heads (VID, CRD, CC, ICD, MIMKD, FitNet's regressor, FT's translator) are created from the models' output
 * shapes and trained with the student (SGD momentum 0.9, weight decay 5e-4). AB and FSP get RepDistiller's
 * pre-stage (30 epochs on their loss alone, then no main-stage term) and FT its paraphraser pre-stage; AB's
 * connectors (conv + BN, for pre-activation pairs whose shapes differ) are trained in its pre-stage only.
 * Defaults: 240 epochs, batch 64, lr 0.05 (0.01 for MobileNetV2/ShuffleNets), step decay at 150/180/210.
 *
 * Every option is validated before training starts: unknown methods, options or weights of the wrong type,
 * and methods whose named features (`reads`: stem, stages, pooled, …) the teacher or student does not provide
 * are rejected with the objective's index. Methods are looked up in the registry (`registerMethod`).
 *
 * @example
 * const result = await distillStudent({ student, teacher, data: { train, test },
 *   objectives: [{ method: 'ce', weight: 0.1 }, { method: 'kd', weight: 0.9, options: { temperature: 4 } },
 *     { method: 'crd', weight: 0.8 }],
 *   store: directoryStore('runs/r56-r20-crd'), resume: 'auto' });
 * console.log(result.best.test?.top1, result.last.test?.top1);
 */
export async function distillStudent(options: DistillStudentOptions): Promise<TrainingResult> {
  const fn = 'distillStudent';
  assertObject(fn, 'options', options);
  assertKnownOptions(fn, options, [...COMMON_KEYS, 'student', 'teacher', 'objectives', 'measureTeacherCmi']);
  const student = assertModel(fn, 'student', options.student);
  const teacher = assertModel(fn, 'teacher', options.teacher, 'teacher');
  if (student === teacher) throw new Error(`${fn}: student and teacher must be different models`);
  const teacherVariables = new Set([...teacher.trainableVariables, ...teacher.nonTrainableVariables]);
  if (student.trainableVariables.some((variable) => teacherVariables.has(variable))) {
    throw new Error(`${fn}: student and teacher share variables; the teacher must stay frozen`);
  }
  if (student.numClasses !== teacher.numClasses) {
    throw new Error(`${fn}: student has ${student.numClasses} classes, teacher ${teacher.numClasses}`);
  }
  const objectives = validateObjectives(fn, options.objectives ?? referenceObjectives('kd'));
  const measureTeacherCmi = assertBoolean(fn, 'measureTeacherCmi', options.measureTeacherCmi ?? true);
  const settings = resolveCommonOptions(
    fn,
    options,
    {
      epochs: 240,
      learningRate: defaultLearningRate(student.name),
      schedule: { kind: 'step' },
    },
    student,
  );
  assertModelFitsData(`${fn} (teacher)`, teacher, [
    ['data.train', settings.train],
    ['data.test', settings.test],
  ]);
  assertGradientsRegistered(fn);

  // Read the output shapes from two training images (inference mode: no BN statistics move), build the
  // methods from them, and run each stateless loss once on these outputs, so that incompatible features fail
  // here, before training, with the objective's index.
  const probe = await probeBatch(settings);
  const probeOutputs = tf.tidy(() => ({
    s: student.apply(probe.images, { training: false }) as unknown as tf.TensorContainer,
    t: teacher.apply(probe.images, { training: false }) as unknown as tf.TensorContainer,
  })) as unknown as { s: ModelOutput; t: ModelOutput };
  const terms: Term[] = [];
  const disposeAll = () => {
    for (const term of terms) for (const head of term.heads) head.dispose();
  };
  try {
    objectives.forEach((objective, index) => {
      const { definition } = objective;
      const where = `${fn}: objectives[${index}] ('${objective.method}')`;
      assertReads(where, 'student', probeOutputs.s, definition.reads.student);
      assertReads(where, 'teacher', probeOutputs.t, definition.reads.teacher);
      const instance = definition.create(
        {
          where,
          student: readShapes(probeOutputs.s, definition.reads.student),
          teacher: readShapes(probeOutputs.t, definition.reads.teacher),
          studentName: student.name,
          numClasses: student.numClasses,
          trainIndices: settings.train.indices as Int32Array,
          trainLabels: settings.train.labels,
          seed: offsetSeed(settings.seed, 1000 * index),
          studentVariables: [...student.trainableVariables],
          learningRate: settings.learningRate,
          checkValues: false,
        },
        objective.options,
      );
      const heads = instance.heads ?? [];
      terms.push({ definition, heads, inMainStage: instance.inMainStage ?? true, instance });
      if (heads.length === 0) {
        const inputs = lossInputs(definition, probeOutputs.s, probeOutputs.t, probe, 1);
        try {
          tf.tidy(() => {
            instance.loss(inputs);
            instance.preStage?.loss(inputs);
          });
        } catch (error) {
          throw new Error(`${where}: ${(error as Error).message}`);
        }
      }
    });
  } catch (error) {
    disposeAll();
    throw error;
  } finally {
    releaseBatch(probe);
    tf.dispose(probeOutputs as unknown as tf.TensorContainer);
  }

  const heads = terms.flatMap((term) => term.heads);
  const partNames = objectives.map((objective, index) => {
    const earlier = objectives.slice(0, index).filter((other) => other.method === objective.method).length;
    return earlier === 0 ? objective.method : `${objective.method}${earlier + 1}`;
  });
  const mainStage = objectives.map((_, index) => index).filter((index) => terms[index]!.inMainStage);
  if (mainStage.length === 0)
    throw new Error(
      `${fn}: no objective contributes to the main stage (AB and FSP only pre-train); add { method: 'ce', weight: 1 }`,
    );
  const config = {
    student: describeModel(student),
    teacher: { ...describeModel(teacher), variablesCrc32: hashVariables(teacher) },
    objectives: objectives.map(({ method, weight, options: methodOptions }) => ({
      method,
      weight,
      options: methodOptions,
    })) as unknown as JsonValue,
    ...describeSettings(settings, options),
  };
  const stateTensors = async (): Promise<{ tensors: Map<string, tf.Tensor>; temporaries: tf.Tensor[] }> => {
    const tensors = new Map<string, tf.Tensor>();
    collectModel(tensors, 'student', student);
    const temporaries: tf.Tensor[] = [];
    for (const [index, head] of heads.entries())
      temporaries.push(...(await headTensors(head, `head/${index}`, tensors)));
    return { tensors, temporaries };
  };
  const restoreStateTensors = async (tensors: Map<string, tf.Tensor>) => {
    restoreModel(fn, tensors, 'student', student);
    for (const [index, head] of heads.entries()) await restoreHead(fn, head, `head/${index}`, tensors);
  };
  // The loop's own calls skip the value scans (see runTraining); the probe above keeps them, once per run.
  const teacherOutputs = (batch: Batch): tf.TensorContainer =>
    teacher.apply(batch.images, { training: false, checkValues: false }) as unknown as tf.TensorContainer;

  try {
    // Pre-stages (RepDistiller's init()): each method's loss alone at a constant lr. init() calls
    // model_s.eval() and then init_modules.train(), and init_modules holds the student's feature modules, so
    // the student's trunk runs in training mode (batch statistics, running statistics updated).
    for (const [index, { definition, instance }] of terms.entries()) {
      const preStage = instance.preStage;
      if (preStage === undefined || preStage.epochs === 0) continue;
      const name = partNames[index] as string;
      const preFn = `${fn} (pre-stage of '${name}')`;
      const preTask: TrainingTask = {
        functionName: preFn,
        model: student,
        trainableVariables: preStage.variables,
        partNames: [name],
        prepare: teacherOutputs,
        losses(batch, prepared, epoch) {
          const teacherOutput = prepared as unknown as ModelOutput;
          if (!preStage.needsStudent) {
            const { student: _unused, ...inputs } = lossInputs(definition, teacherOutput, teacherOutput, batch, epoch);
            return { parts: [preStage.loss(inputs)] };
          }
          const studentOutput = student.apply(batch.images, { training: true, checkValues: false });
          const loss = preStage.loss(lossInputs(definition, studentOutput, teacherOutput, batch, epoch));
          return { parts: [loss], logits: studentOutput.logits };
        },
        stateTensors,
        restoreStateTensors,
        stateJson: () => ({}),
        restoreStateJson: () => undefined,
        fingerprint: {
          functionName: preFn,
          ...config,
          preStageEpochs: preStage.epochs,
          preStageLearningRate: preStage.learningRate,
        },
        recordConfig: { ...config, preStageEpochs: preStage.epochs, preStageLearningRate: preStage.learningRate },
        dispose: () => undefined,
      };
      await runTraining(preTask, {
        ...settings,
        test: undefined,
        epochs: preStage.epochs,
        learningRate: preStage.learningRate,
        schedule: { kind: 'constant' },
        store: settings.store === undefined ? undefined : prefixedStore(settings.store, `prestage-${index}-${name}-`),
        resume: settings.resume === false ? false : 'auto',
        onStepEnd: undefined,
        onEpochEnd: undefined,
      });
    }

    let teacherCmi: number | undefined;
    let teacherTestTop1: number | undefined;
    const task: TrainingTask = {
      functionName: fn,
      model: student,
      trainableVariables: [
        ...student.trainableVariables,
        ...mainStage.flatMap((index) => terms[index]!.heads.flatMap((head) => head.trainableVariables)),
      ],
      partNames: mainStage.map((index) => partNames[index] as string),
      async initialize() {
        if (measureTeacherCmi) {
          teacherCmi = (
            await measureClassConditionalStatistics({
              model: teacher,
              dataset: settings.train,
              loader: settings.loader,
              batchSize: settings.evaluationBatchSize,
              checkValues: false,
            })
          ).cmi;
        }
        if (settings.test) {
          teacherTestTop1 = (
            await evaluateModel({
              model: teacher,
              dataset: settings.test,
              loader: settings.loader,
              batchSize: settings.evaluationBatchSize,
              checkValues: false,
            })
          ).top1;
        }
      },
      prepare: teacherOutputs,
      losses(batch, prepared, epoch) {
        const studentOutput = student.apply(batch.images, { training: true, checkValues: false });
        const teacherOutput = prepared as unknown as ModelOutput;
        // L = Σ_k w_k · L_k
        const parts = mainStage.map((index) => {
          const { definition, instance } = terms[index]!;
          const loss = instance.loss(lossInputs(definition, studentOutput, teacherOutput, batch, epoch));
          return tf.mul(objectives[index]!.weight, loss) as tf.Scalar;
        });
        return { parts, logits: studentOutput.logits };
      },
      afterStep() {
        for (const index of mainStage) terms[index]!.instance.afterStep?.();
      },
      discardPendingUpdate() {
        for (const { instance } of terms) instance.discardPendingUpdate?.();
      },
      stateTensors,
      restoreStateTensors,
      stateJson: () => ({ teacherCmi: teacherCmi ?? null, teacherTestTop1: teacherTestTop1 ?? null }),
      restoreStateJson(state) {
        teacherCmi = typeof state.teacherCmi === 'number' ? state.teacherCmi : undefined;
        teacherTestTop1 = typeof state.teacherTestTop1 === 'number' ? state.teacherTestTop1 : undefined;
      },
      async epochMetrics() {
        const extra: Record<string, number> = {};
        if (teacherCmi !== undefined) extra.teacherCmi = teacherCmi;
        if (teacherTestTop1 !== undefined) extra.teacherTestTop1 = teacherTestTop1;
        return extra;
      },
      fingerprint: { functionName: fn, ...config },
      recordConfig: config,
      dispose: () => undefined,
    };
    // A run killed during a pre-stage has no main checkpoint yet: resume: true must not reject it.
    const hasPreStage = terms.some(({ instance }) => instance.preStage !== undefined && instance.preStage.epochs > 0);
    return await runTraining(task, {
      ...settings,
      resume: settings.resume === true && hasPreStage ? 'auto' : settings.resume,
    });
  } finally {
    disposeAll();
  }
}
