import * as tf from '@tensorflow/tfjs-core';
import {
  CorrelationCongruenceRegularizer,
  CrdRegularizer,
  FactorTransferRegularizer,
  FitNetRegularizer,
  IcdRegularizer,
  MimkdRegularizer,
  VidLpRegularizer,
  VidRegularizer,
  VidVectorRegularizer,
  abLoss,
  attentionTransferLoss,
  crossEntropy,
  dkdLoss,
  fspLoss,
  kdLoss,
  nstLoss,
  pktLoss,
  rkdLoss,
  similarityPreservingLoss,
  type Regularizer,
} from '@kd/losses';
import { modelRecipe } from '@kd/models';
import { deriveSeed } from '../engine/options';
import { assertNumber } from '../validate';
import { assertSameCount, channelsOf, pick, selectFeatureIndices } from './features';
import type { MethodContext, MethodDefinition, MethodInstance, ObjectiveSpec, PreStage, ReferenceWeights } from './types';

/** Builds a head, prefixing its constructor's error with where it was configured. */
function buildHead<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** Options without the trainer's own keys, for a head's constructor. */
function headOptions(options: Record<string, unknown>, trainerKeys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !trainerKeys.includes(key)));
}

const PRE_STAGE_KEYS = ['preStageEpochs', 'preStageLearningRate'] as const;

/**
 * RepDistiller's `init()` settings: 30 epochs at a constant learning rate, by default the main one; FT's
 * paraphraser uses the student's registered `paraphraserLearningRate` instead (0.01 for the CIFAR ResNets and
 * WRNs, see `modelRecipe` in `@kd/models`).
 */
function preStageSettings(
  context: MethodContext,
  options: Record<string, unknown>,
  defaultLearningRate = context.learningRate,
): { epochs: number; learningRate: number } {
  const epochs = assertNumber(context.where, 'options.preStageEpochs', options.preStageEpochs ?? 30, { integer: true, nonNegative: true });
  const learningRate = assertNumber(context.where, 'options.preStageLearningRate', options.preStageLearningRate ?? defaultLearningRate, {
    nonNegative: true,
  });
  return { epochs, learningRate };
}

function stateless(loss: MethodInstance['loss']): MethodInstance {
  return { heads: [], inMainStage: true, loss };
}

const definitions: MethodDefinition[] = [
  {
    name: 'ce',
    summary: 'cross-entropy with the labels (γ)',
    referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
    optionKeys: [],
    create: (context) =>
      stateless(({ student, labels }) => crossEntropy(student.logits, labels, { checkValues: context.checkValues })),
  },
  {
    name: 'kd',
    summary: 'Hinton KD, T²·KL(softmax(t/T) ‖ softmax(s/T)), T = 4',
    referenceWeights: { gamma: 0.1, alpha: 0.9, beta: 0 },
    optionKeys: ['temperature'],
    create: (context, options) =>
      stateless(({ student, teacher }) =>
        kdLoss(student.logits, teacher.logits, { ...options, checkValues: context.checkValues }),
      ),
  },
  {
    name: 'dkd',
    summary: 'decoupled KD (α·TCKD + β·NCKD) times the warm-up min(epoch/warmupEpochs, 1), warmupEpochs = 20',
    referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
    optionKeys: ['alpha', 'beta', 'temperature', 'warmupEpochs'],
    create(context, options) {
      // mdistiller's DKD multiplies the term by min(epoch / 20, 1) (epochs 1-based); warmupEpochs 0 turns it off.
      const warmupEpochs = assertNumber(context.where, 'options.warmupEpochs', options.warmupEpochs ?? 20, { integer: true, nonNegative: true });
      const lossOptions = { ...headOptions(options, ['warmupEpochs']), checkValues: context.checkValues };
      return stateless(({ student, teacher, labels, epoch }) => {
        const loss = dkdLoss(student.logits, teacher.logits, labels, lossOptions);
        return warmupEpochs === 0 ? loss : (tf.mul(Math.min(epoch / warmupEpochs, 1), loss) as tf.Scalar);
      });
    },
  },
  {
    name: 'at',
    summary: 'attention transfer on every stage output (feat[1:-1]), p = 2',
    referenceWeights: { gamma: 1, alpha: 0, beta: 1000 },
    optionKeys: ['p'],
    create(context, options) {
      const s = selectFeatureIndices(context.where, 'student', context.student, 'stages');
      const t = selectFeatureIndices(context.where, 'teacher', context.teacher, 'stages');
      assertSameCount(context.where, s, t, 'stage feature maps');
      return stateless(({ student, teacher }) =>
        attentionTransferLoss(pick(student, s), pick(teacher, t), { ...options, checkValues: context.checkValues }),
      );
    },
  },
  {
    name: 'sp',
    summary: 'similarity preserving on the last conv map (feat[-2])',
    referenceWeights: { gamma: 1, alpha: 0, beta: 3000 },
    optionKeys: [],
    create(context) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'lastMap') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'lastMap') as [number];
      return stateless(({ student, teacher }) =>
        similarityPreservingLoss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor, {
          checkValues: context.checkValues,
        }),
      );
    },
  },
  {
    name: 'rkd',
    summary: 'relational KD (distance 25 + angle 50) on the pooled vector',
    referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
    optionKeys: ['distanceWeight', 'angleWeight'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'pooled') as [number];
      return stateless(({ student, teacher }) =>
        rkdLoss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor, {
          ...options,
          checkValues: context.checkValues,
        }),
      );
    },
  },
  {
    name: 'pkt',
    summary: 'probabilistic knowledge transfer on the pooled vector',
    referenceWeights: { gamma: 1, alpha: 0, beta: 30000 },
    optionKeys: ['epsilon'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'pooled') as [number];
      return stateless(({ student, teacher }) =>
        pktLoss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor, {
          ...options,
          checkValues: context.checkValues,
        }),
      );
    },
  },
  {
    name: 'nst',
    summary: 'neuron selectivity transfer (polynomial MMD) on every stage output',
    referenceWeights: { gamma: 1, alpha: 0, beta: 50 },
    optionKeys: [],
    create(context) {
      const s = selectFeatureIndices(context.where, 'student', context.student, 'stages');
      const t = selectFeatureIndices(context.where, 'teacher', context.teacher, 'stages');
      assertSameCount(context.where, s, t, 'stage feature maps');
      return stateless(({ student, teacher }) =>
        nstLoss(pick(student, s), pick(teacher, t), { checkValues: context.checkValues }),
      );
    },
  },
  {
    name: 'ab',
    summary: 'activation boundaries: pre-stage on the pre-activations (connectors where shapes differ), then no main-stage term',
    referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
    optionKeys: ['margin', ...PRE_STAGE_KEYS],
    create(context, options) {
      const { where } = context;
      const studentShapes = context.student.preactFeatures;
      const teacherShapes = context.teacher.preactFeatures;
      if (teacherShapes.length === 0) {
        throw new Error(`${where} needs the teacher's pre-activation features, but teacher.apply returned none (preactFeatures)`);
      }
      if (studentShapes.length !== teacherShapes.length) {
        throw new Error(`${where}: student and teacher must have the same number of pre-activation maps: ${studentShapes.length} vs ${teacherShapes.length}`);
      }
      // RepDistiller's Connector: per pair, the identity when the shapes match, otherwise the FitNet regressor
      // (chosen by the spatial sizes; a 1×1 conv for a channel-only difference) followed by BN without ReLU.
      const connectors = studentShapes.map((shape, index) => {
        const teacherShape = teacherShapes[index]!;
        if (shape.slice(1).join(',') === teacherShape.slice(1).join(',')) return undefined;
        if (shape.length !== 4 || teacherShape.length !== 4) {
          throw new Error(
            `${where}: pre-activation map ${index} has student shape [${shape.join(',')}] and teacher shape ` +
              `[${teacherShape.join(',')}]; a connector needs [N, H, W, C] maps on both sides`,
          );
        }
        return buildHead(`${where}: pre-activation map ${index}`, () =>
          new FitNetRegularizer({
            studentShape: shape.slice(1) as [number, number, number],
            teacherShape: teacherShape.slice(1) as [number, number, number],
            activation: 'none',
            seed: deriveSeed(context.seed, index),
            checkValues: context.checkValues,
          }),
        );
      });
      const heads = connectors.filter((connector): connector is FitNetRegularizer => connector !== undefined);
      const margin = options.margin;
      const settings = preStageSettings(context, options);
      const abOptions = margin === undefined ? {} : { margin: margin as number };
      const abLossOptions = { ...abOptions, checkValues: context.checkValues };
      const preStage: PreStage = {
        ...settings,
        // RepDistiller's init() trains the connectors with the student's feature modules.
        variables: [...context.studentVariables, ...heads.flatMap((head) => head.trainableVariables)],
        needsStudent: true,
        loss: ({ student, teacher }) =>
          abLoss(
            student.preactFeatures.map((feature, index) => connectors[index]?.regress(feature) ?? feature),
            teacher.preactFeatures,
            abLossOptions,
          ),
      };
      return { heads, inMainStage: false, preStage, loss: () => tf.scalar(0) };
    },
  },
  {
    name: 'fsp',
    summary: 'flow of solution procedure: pre-stage on FSP matrices of feat[:-1], then no main-stage term (RepDistiller)',
    referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
    optionKeys: [...PRE_STAGE_KEYS],
    create(context, options) {
      const s = selectFeatureIndices(context.where, 'student', context.student, 'allMaps');
      const t = selectFeatureIndices(context.where, 'teacher', context.teacher, 'allMaps');
      assertSameCount(context.where, s, t, 'feature maps');
      s.forEach((studentIndex, position) => {
        const studentChannels = channelsOf(context.student.features[studentIndex]!);
        const teacherChannels = channelsOf(context.teacher.features[t[position]!]!);
        if (studentChannels !== teacherChannels) {
          throw new Error(`${context.where}: FSP needs equal channels per map; map ${position} has student ${studentChannels}, teacher ${teacherChannels}`);
        }
      });
      const preStage: PreStage = {
        ...preStageSettings(context, options),
        variables: context.studentVariables,
        needsStudent: true,
        loss: ({ student, teacher }) =>
          fspLoss(pick(student, s), pick(teacher, t), { checkValues: context.checkValues }),
      };
      return { heads: [], inMainStage: false, preStage, loss: () => tf.scalar(0) };
    },
  },
  {
    name: 'fitnet',
    summary: 'FitNet hint with a trained regressor on feat[hintLayer] (default 2)',
    referenceWeights: { gamma: 1, alpha: 0, beta: 100 },
    optionKeys: ['hintLayer'],
    create(context, options) {
      const { where } = context;
      const hintLayer = assertNumber(where, 'options.hintLayer', options.hintLayer ?? 2, { integer: true, min: 0 });
      for (const [who, shapes] of [['student', context.student], ['teacher', context.teacher]] as const) {
        if (shapes.features[hintLayer]?.length !== 4) {
          throw new Error(`${where} needs ${who}.features[${hintLayer}] as an [N, H, W, C] map (hintLayer), got ${JSON.stringify(shapes.features[hintLayer] ?? null)}`);
        }
      }
      const shapeOf = (shape: number[]) => shape.slice(1) as [number, number, number];
      const head = buildHead(where, () =>
        new FitNetRegularizer({
          studentShape: shapeOf(context.student.features[hintLayer]!),
          teacherShape: shapeOf(context.teacher.features[hintLayer]!),
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return {
        heads: [head],
        inMainStage: true,
        loss: ({ student, teacher }) => head.loss(student.features[hintLayer] as tf.Tensor, teacher.features[hintLayer] as tf.Tensor),
      };
    },
  },
  {
    name: 'vid',
    summary: 'variational information distillation, one head per stage output (feat[1:-1]); an MLP student\'s hidden vectors too',
    referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
    optionKeys: ['hiddenChannels', 'initialVariance', 'epsilon'],
    create(context, options) {
      const s = selectFeatureIndices(context.where, 'student', context.student, 'stages', { allowVectors: true });
      const t = selectFeatureIndices(context.where, 'teacher', context.teacher, 'stages');
      assertSameCount(context.where, s, t, 'stage feature maps');
      // A non-spatial student (an MLP's [N, D] hidden vectors) gets VID's CNN → MLP head: a linear map from the
      // vector onto the whole teacher map, one variance per teacher channel (VidVectorRegularizer).
      const vectorIndex = s.find((index) => context.student.features[index]!.length === 2);
      if (vectorIndex !== undefined && (options as { hiddenChannels?: unknown }).hiddenChannels !== undefined) {
        throw new Error(`${context.where}: hiddenChannels applies to conv students; student.features[${vectorIndex}] is a vector [${context.student.features[vectorIndex]!.join(',')}]`);
      }
      const heads: Array<VidRegularizer | VidVectorRegularizer> = s.map((studentIndex, position) => {
        const studentShape = context.student.features[studentIndex]!;
        const teacherShape = context.teacher.features[t[position]!]!;
        if (studentShape.length === 2) {
          return buildHead(context.where, () =>
            new VidVectorRegularizer({
              ...(options as object),
              studentDim: channelsOf(studentShape),
              teacherShape: teacherShape.slice(1) as [number, number, number],
              seed: deriveSeed(context.seed, position),
              checkValues: context.checkValues,
            }),
          );
        }
        return buildHead(context.where, () =>
          new VidRegularizer({
            ...(options as object),
            studentChannels: channelsOf(studentShape),
            teacherChannels: channelsOf(teacherShape),
            seed: deriveSeed(context.seed, position),
            checkValues: context.checkValues,
          }),
        );
      });
      return {
        heads,
        inMainStage: true,
        loss: ({ student, teacher }) =>
          tf.addN(heads.map((head, position) =>
            head.loss(student.features[s[position]!] as tf.Tensor, teacher.features[t[position]!] as tf.Tensor),
          )) as tf.Scalar,
      };
    },
  },
  {
    name: 'vidlp',
    summary: "VID-LP: the teacher's logits from the student's pooled vector",
    referenceWeights: undefined,
    optionKeys: ['initialVariance', 'epsilon'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const head = buildHead(context.where, () =>
        new VidLpRegularizer({
          ...(options as object),
          studentDim: channelsOf(context.student.features[s]!),
          teacherDim: context.numClasses,
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return { heads: [head], inMainStage: true, loss: ({ student, teacher }) => head.loss(student.features[s] as tf.Tensor, teacher.logits) };
    },
  },
  {
    name: 'cc',
    summary: 'correlation congruence with trained embeddings of the pooled vectors',
    referenceWeights: { gamma: 1, alpha: 0, beta: 0.02 },
    optionKeys: ['embedDim'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'pooled') as [number];
      const head = buildHead(context.where, () =>
        new CorrelationCongruenceRegularizer({
          ...(options as object),
          studentDim: channelsOf(context.student.features[s]!),
          teacherDim: channelsOf(context.teacher.features[t]!),
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return { heads: [head], inMainStage: true, loss: ({ student, teacher }) => head.loss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor) };
    },
  },
  {
    name: 'crd',
    summary: 'contrastive representation distillation with memory banks over the training set',
    referenceWeights: { gamma: 1, alpha: 0, beta: 0.8 },
    optionKeys: ['embedDim', 'numNegatives', 'temperature', 'momentum'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'pooled') as [number];
      // Memory rows are the training set's positions: dataset indices (kept through subsets) map to rows, so a
      // few-shot subset draws its negatives among the samples it trains on.
      const rowOf = new Map<number, number>();
      context.trainIndices.forEach((index, row) => rowOf.set(index, row));
      if (rowOf.size !== context.trainIndices.length) throw new Error(`${context.where}: data.train.indices has duplicates`);
      const datasetSize = context.trainIndices.length;
      const numNegatives = Math.min((options.numNegatives as number | undefined) ?? 16384, Math.max(datasetSize - 1, 1));
      const head = buildHead(context.where, () =>
        new CrdRegularizer({
          ...(options as object),
          numNegatives,
          studentDim: channelsOf(context.student.features[s]!),
          teacherDim: channelsOf(context.teacher.features[t]!),
          datasetSize,
          labels: context.trainLabels,
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return {
        heads: [head],
        inMainStage: true,
        loss: ({ student, teacher, indices }) => {
          const rows = Int32Array.from(indices, (index) => {
            const row = rowOf.get(index);
            if (row === undefined) throw new Error(`${context.where}: batch index ${index} is not in data.train.indices`);
            return row;
          });
          return head.loss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor, rows);
        },
        afterStep: () => head.updateMemory(),
        discardPendingUpdate: () => {
          if (head.hasPendingUpdate) head.discardPendingUpdate();
        },
      };
    },
  },
  {
    name: 'icd',
    summary: 'InfoNCE-style contrastive distillation of the pooled vectors (ICD)',
    referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
    optionKeys: ['embedDim', 'alpha'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'pooled') as [number];
      const head = buildHead(context.where, () =>
        new IcdRegularizer({
          ...(options as object),
          studentDim: channelsOf(context.student.features[s]!),
          teacherDim: channelsOf(context.teacher.features[t]!),
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return { heads: [head], inMainStage: true, loss: ({ student, teacher }) => head.loss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor) };
    },
  },
  {
    name: 'mimkd',
    summary: "MIMKD-style local/global MI between the student's pooled vector and the teacher's last map",
    referenceWeights: undefined,
    optionKeys: ['embedDim', 'estimator', 'localWeight', 'globalWeight'],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'pooled') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'lastMap') as [number];
      const head = buildHead(context.where, () =>
        new MimkdRegularizer({
          ...(options as object),
          studentDim: channelsOf(context.student.features[s]!),
          teacherChannels: channelsOf(context.teacher.features[t]!),
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      return { heads: [head], inMainStage: true, loss: ({ student, teacher }) => head.loss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor) };
    },
  },
  {
    name: 'ft',
    summary: "factor transfer: paraphraser pre-stage on the teacher's last map, then translator + FT loss",
    referenceWeights: { gamma: 1, alpha: 0, beta: 200 },
    optionKeys: ['rate', ...PRE_STAGE_KEYS],
    create(context, options) {
      const [s] = selectFeatureIndices(context.where, 'student', context.student, 'lastMap') as [number];
      const [t] = selectFeatureIndices(context.where, 'teacher', context.teacher, 'lastMap') as [number];
      const head = buildHead(context.where, () =>
        new FactorTransferRegularizer({
          ...headOptions(options, PRE_STAGE_KEYS),
          studentChannels: channelsOf(context.student.features[s]!),
          teacherChannels: channelsOf(context.teacher.features[t]!),
          seed: context.seed,
          checkValues: context.checkValues,
        }),
      );
      const preStage: PreStage = {
        ...preStageSettings(context, options, modelRecipe(context.studentName).paraphraserLearningRate ?? context.learningRate),
        variables: head.paraphraserVariables,
        needsStudent: false,
        loss: ({ teacher }) => head.reconstructionLoss(teacher.features[t] as tf.Tensor),
      };
      return {
        heads: [head],
        inMainStage: true,
        preStage,
        loss: ({ student, teacher }) => head.loss(student.features[s] as tf.Tensor, teacher.features[t] as tf.Tensor),
      };
    },
  },
];

/**
 * The reference weights of every method that has them (see {@link ReferenceWeights}): the one table that
 * `distillStudent`'s default objective, the README's method table and the examples read.
 */
export const REFERENCE_WEIGHTS: Readonly<Record<string, ReferenceWeights>> = Object.fromEntries(
  definitions.flatMap((definition) => (definition.referenceWeights === undefined ? [] : [[definition.name, definition.referenceWeights] as const])),
);

/**
 * The reference objective of a method: `[{ ce, γ }, { kd, α } when α > 0, { method, β }]` (KD: `[ce 0.1, kd 0.9]`),
 * with `options` for the method's entry. Throws for a method without reference weights.
 *
 * @example
 * referenceObjectives('at'); // [{ method: 'ce', weight: 1 }, { method: 'at', weight: 1000 }]
 */
export function referenceObjectives(method: string, options?: Record<string, unknown>): ObjectiveSpec[] {
  const weights = REFERENCE_WEIGHTS[method];
  if (weights === undefined) {
    const known = METHODS.has(method) ? `'${method}' has no reference weights` : `unknown method '${method}'`;
    throw new Error(`referenceObjectives: ${known}; methods with reference weights: ${Object.keys(REFERENCE_WEIGHTS).join(', ')}`);
  }
  const withOptions = (spec: ObjectiveSpec): ObjectiveSpec => (options === undefined ? spec : { ...spec, options });
  if (method === 'ce') return [withOptions({ method: 'ce', weight: weights.gamma })];
  if (method === 'kd') return [{ method: 'ce', weight: weights.gamma }, withOptions({ method: 'kd', weight: weights.alpha })];
  return [
    { method: 'ce', weight: weights.gamma },
    ...(weights.alpha > 0 ? [{ method: 'kd', weight: weights.alpha }] : []),
    withOptions({ method, weight: weights.beta }),
  ];
}

/** Every method {@link distillStudent} knows, by name. */
export const METHODS: ReadonlyMap<string, MethodDefinition> = new Map(definitions.map((definition) => [definition.name, definition]));

/** The method names, for messages and docs. */
export const METHOD_NAMES: readonly string[] = definitions.map((definition) => definition.name);

/** A head is any regularizer the method created; re-exported for typing the loop. */
export type Head = Regularizer;
