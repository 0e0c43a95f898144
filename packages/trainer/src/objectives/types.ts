import type * as tf from '@tensorflow/tfjs-core';
import type {
  AbLossOptions,
  AttentionTransferLossOptions,
  CorrelationCongruenceRegularizerOptions,
  CrdRegularizerOptions,
  DkdLossOptions,
  FactorTransferRegularizerOptions,
  IcdRegularizerOptions,
  KdLossOptions,
  MimkdRegularizerOptions,
  PktLossOptions,
  Regularizer,
  RkdLossOptions,
  VidLpRegularizerOptions,
  VidRegularizerOptions,
} from '@kd/losses';

/**
 * The options of a method that takes none: `{}` or no `options` (any key is a compile error,
 * `'temperature' does not exist in type 'NoOptions'`).
 */
export interface NoOptions {
  /** Not an option: the marker that makes every key an error. */
  readonly noOptions?: never;
}

/** RepDistiller's `init()` settings, for the methods with a pre-stage (AB, FSP, FT). */
export interface PreStageOptions {
  /** Epochs of the pre-stage. Default 30; 0 skips it. */
  preStageEpochs?: number;
  /** Its constant learning rate. Default the main one (FT: the student's `paraphraserLearningRate`). */
  preStageLearningRate?: number;
}

/**
 * The options of every method, by name: the type `distillStudent`'s objectives are checked against
 * (`{ method: 'kd', options: { temprature: 4 } }` does not compile). Add your own method's options with
 * declaration merging, then register it with {@link registerMethod}:
 *
 * @example
 * declare module '@kd/trainer' {
 *   interface MethodOptionsMap { logitMatch: { scale?: number } }
 * }
 */
export interface MethodOptionsMap {
  ce: NoOptions;
  kd: Pick<KdLossOptions, 'temperature'>;
  dkd: Pick<DkdLossOptions, 'alpha' | 'beta' | 'temperature'> & {
    /** The term is multiplied by min(epoch / warmupEpochs, 1). Default 20; 0 turns the warm-up off. */
    warmupEpochs?: number;
  };
  at: Pick<AttentionTransferLossOptions, 'p'>;
  sp: NoOptions;
  rkd: Pick<RkdLossOptions, 'distanceWeight' | 'angleWeight'>;
  pkt: Pick<PktLossOptions, 'epsilon'>;
  nst: NoOptions;
  ab: Pick<AbLossOptions, 'margin'> & PreStageOptions;
  fsp: PreStageOptions;
  fitnet: {
    /** Which map of `[stem, ...stages]` is the hint (RepDistiller's `hint_layer`). Default 2. */
    hintLayer?: number;
  };
  vid: Pick<VidRegularizerOptions, 'hiddenChannels' | 'initialVariance' | 'epsilon'>;
  vidlp: Pick<VidLpRegularizerOptions, 'initialVariance' | 'epsilon'>;
  cc: Pick<CorrelationCongruenceRegularizerOptions, 'embedDim'>;
  crd: Pick<CrdRegularizerOptions, 'embedDim' | 'numNegatives' | 'temperature' | 'momentum'>;
  icd: Pick<IcdRegularizerOptions, 'embedDim' | 'alpha'>;
  mimkd: Pick<MimkdRegularizerOptions, 'embedDim' | 'estimator' | 'localWeight' | 'globalWeight'>;
  ft: Pick<FactorTransferRegularizerOptions, 'rate'> & PreStageOptions;
}

/** A method name: a key of {@link MethodOptionsMap} (the built-in methods and those you declared). */
export type MethodName = Extract<keyof MethodOptionsMap, string>;

/**
 * One weighted term of the student objective: `{ method: 'kd', weight: 0.9, options: { temperature: 4 } }`.
 * `options` is typed by the method's entry in {@link MethodOptionsMap}.
 */
export type ObjectiveSpec<M extends MethodName = MethodName> = M extends MethodName
  ? {
      /** The method (see `listMethods()`). */
      method: M;
      /** Its weight (γ for ce, α for kd, β for the others). */
      weight: number;
      /** The method's options. */
      options?: MethodOptionsMap[M];
    }
  : never;

/**
 * A feature a method reads, by name: the named features of `ModelOutput` (`@kd/models`) and `lastStage`, the
 * last entry of `stages` (RepDistiller's `feat[-2]`, the last conv map).
 */
export type FeatureRead = 'stem' | 'stages' | 'lastStage' | 'pooled' | 'preactivations';

/** The tensor(s) behind each {@link FeatureRead}. */
export interface FeatureTensors {
  stem: tf.Tensor;
  stages: tf.Tensor[];
  lastStage: tf.Tensor;
  pooled: tf.Tensor2D;
  preactivations: tf.Tensor[];
}

/** The shape(s) behind each {@link FeatureRead}, read from a probe batch of two images. */
export interface FeatureShapes {
  stem: number[];
  stages: number[][];
  lastStage: number[];
  pooled: number[];
  preactivations: number[][];
}

/** What a method sees of one model's output: the logits and the features it declared in `reads`. */
export type ReadFeatures<R extends FeatureRead> = { readonly logits: tf.Tensor2D } & {
  readonly [K in R]: FeatureTensors[K];
};

/** The shapes of the logits and of the features a method declared in `reads`. */
export type ReadShapes<R extends FeatureRead> = { readonly logits: number[] } & { readonly [K in R]: FeatureShapes[K] };

/** What a method's loss sees each step. */
export interface LossInputs<S extends FeatureRead = FeatureRead, T extends FeatureRead = FeatureRead> {
  /** The student's logits and the features the method reads (training mode, inside the gradient closure). */
  student: ReadFeatures<S>;
  /** The frozen teacher's (inference mode, computed outside the gradient closure). */
  teacher: ReadFeatures<T>;
  labels: tf.Tensor1D;
  /** Dataset indices of the batch's samples (CRD's memory rows). */
  indices: Int32Array;
  /** The 1-based epoch of the step (of its stage: a pre-stage counts its own epochs). */
  epoch: number;
}

/** A pre-stage's settings: RepDistiller's `init()`, run on the method's loss alone before the main stage. */
export interface PreStageSettings {
  epochs: number;
  learningRate: number;
  /** What the pre-stage optimises (the student's variables and/or a head's). */
  variables: tf.Variable[];
}

/**
 * A pre-stage (RepDistiller's `init()`): trains `variables` on `loss` alone before the main stage. With
 * `needsStudent: false` the student is not run (FT's paraphraser learns from the teacher alone).
 */
export type PreStage<S extends FeatureRead = FeatureRead, T extends FeatureRead = FeatureRead> = PreStageSettings &
  (
    | { needsStudent: true; loss(inputs: LossInputs<S, T>): tf.Scalar }
    | { needsStudent: false; loss(inputs: Omit<LossInputs<S, T>, 'student'>): tf.Scalar }
  );

/** A method instantiated for one student/teacher pair: what `create` returns. */
export interface MethodInstance<S extends FeatureRead = FeatureRead, T extends FeatureRead = FeatureRead> {
  /**
   * Stateful modules (heads, memory banks) trained with the student and saved in every checkpoint (so a
   * resumed run restores them). Default none.
   */
  heads?: Regularizer[];
  /** Whether the term contributes in the main stage. Default true (AB and FSP only pre-train, as in RepDistiller). */
  inMainStage?: boolean;
  /** The unweighted loss of one batch (called inside the gradient closure). */
  loss(inputs: LossInputs<S, T>): tf.Scalar;
  /** After the optimiser update (CRD's memory update). */
  afterStep?(): void;
  /** After a failed step, to drop pending state (CRD's pending memory update). */
  discardPendingUpdate?(): void;
  preStage?: PreStage<S, T>;
}

/** What a method's `create` gets. */
export interface MethodContext<S extends FeatureRead = FeatureRead, T extends FeatureRead = FeatureRead> {
  /** `distillStudent: objectives[2] ('vid')`: the prefix of every error the method throws. */
  where: string;
  /** Shapes of the student's logits and of the features the method reads (each one present). */
  student: ReadShapes<S>;
  /** The same for the teacher. */
  teacher: ReadShapes<T>;
  /** `KdModel.name` of the student (its registered recipe, e.g. FT's paraphraser learning rate). */
  studentName: string;
  numClasses: number;
  /** Dataset indices and labels of the training set (CRD's memory bank). */
  trainIndices: Int32Array;
  trainLabels: Int32Array;
  /** This objective's seed (derived from the run's seed and the objective's index). */
  seed: number;
  /** Student variables (pre-stages of AB/FSP train them). */
  studentVariables: tf.Variable[];
  /** The main learning rate. */
  learningRate: number;
  /**
   * The `checkValues` option a method passes to every `@kd/losses` function and regularizer it calls or builds
   * (see `ValueCheckOption` there). The trainer sets false: its datasets are validated up front and a
   * non-finite loss stops the step, so the per-call value scans (device reads) would only cost time. It applies
   * to the method's own calls only; any other call in the process keeps its default.
   */
  checkValues: boolean;
}

/**
 * The weights of RepDistiller's `run_cifar_distill.sh` for a method: L = γ·CE + α·KD + β·method
 * (`-r`, `-a`, `-b`). KD itself is γ·CE + α·KD with β unused.
 */
export interface ReferenceWeights {
  gamma: number;
  alpha: number;
  beta: number;
}

/**
 * One line per option key: its meaning and default. The keys are exactly those of the options type (keys
 * typed `never`, as {@link NoOptions}' marker, excepted).
 */
export type OptionDescriptions<O> = {
  readonly [K in keyof O as [Exclude<O[K], undefined>] extends [never] ? never : K]-?: string;
};

/**
 * A distillation method: what {@link registerMethod} takes. `S` and `T` are the features it reads from the
 * student and the teacher (inferred from `reads`); `O` its options (its {@link MethodOptionsMap} entry).
 */
export interface MethodDefinition<O = NoOptions, S extends FeatureRead = never, T extends FeatureRead = never> {
  /** One line: `listMethods()`, the README's method table and error messages show it. */
  summary: string;
  /**
   * The named features it reads. `distillStudent` checks both models provide them before training (naming the
   * missing one) and passes only these to `create` (shapes) and `loss` (tensors); logits are always there.
   */
  reads: { readonly student: readonly S[]; readonly teacher: readonly T[] };
  /**
   * Every option key with one line of description. The runtime list of keys `distillStudent` accepts
   * (a misspelt key is rejected with the closest one) is `Object.keys(options)`; its type requires exactly
   * the keys of the method's options type.
   */
  options: OptionDescriptions<O>;
  /**
   * The reference weights (RepDistiller's script; DKD: mdistiller's; ICD: its authors'), used by
   * `referenceObjectives` and `REFERENCE_WEIGHTS`; omit for a method the reference scripts do not run.
   */
  referenceWeights?: ReferenceWeights;
  /** Builds the method for one student/teacher pair (heads from the shapes; throw with `context.where`). */
  create(context: MethodContext<S, T>, options: O): MethodInstance<S, T>;
}

/** A registered method as {@link listMethods} describes it. */
export interface MethodInfo {
  name: MethodName;
  summary: string;
  reads: { student: FeatureRead[]; teacher: FeatureRead[] };
  /** Option key → description. */
  options: Readonly<Record<string, string>>;
  referenceWeights: ReferenceWeights | undefined;
}
