import type * as tf from '@tensorflow/tfjs-core';
import type { Regularizer } from '@kd/losses';
import type { ModelOutput } from '@kd/models';

/** One weighted term of the student objective: `{ method: 'kd', weight: 0.9, options: { temperature: 4 } }`. */
export interface ObjectiveSpec {
  /** A method name from {@link METHOD_NAMES} (`ce`, `kd`, `vid`, `crd`, …). */
  method: string;
  /** Its weight (γ for ce, α for kd, β for the others). */
  weight: number;
  /** Method options (temperature, embedDim, hintLayer, preStageEpochs, …); see the README's method table. */
  options?: Record<string, unknown>;
}

/** Shapes of a model's outputs, read once from a probe batch before training. */
export interface OutputShapes {
  logits: number[];
  features: number[][];
  preactFeatures: number[][];
}

/** What a method's loss sees each step. */
export interface LossInputs {
  student: ModelOutput;
  /** The frozen teacher's outputs (inference mode, computed outside the gradient closure). */
  teacher: ModelOutput;
  labels: tf.Tensor1D;
  indices: Int32Array;
  /** The 1-based epoch of the step (of its stage: a pre-stage counts its own epochs). */
  epoch: number;
}

/** A pre-stage (RepDistiller's `init()`): trains `variables` on `loss` alone before the main stage. */
export interface PreStage {
  epochs: number;
  learningRate: number;
  /** What the pre-stage optimises (the student's variables and/or a head's). */
  variables: tf.Variable[];
  /** Whether the loss needs the student's forward pass (FT's paraphraser does not). */
  needsStudent: boolean;
  loss(inputs: LossInputs): tf.Scalar;
}

/** A method instantiated for one student/teacher pair. */
export interface MethodInstance {
  /** Stateful modules (heads, memory banks) saved in checkpoints and trained with the student. */
  heads: Regularizer[];
  /** Whether the term contributes in the main stage (AB and FSP only pre-train, as in RepDistiller). */
  inMainStage: boolean;
  /** The unweighted loss of one batch (called inside the gradient closure). */
  loss(inputs: LossInputs): tf.Scalar;
  /** After the optimiser update (CRD's memory update). */
  afterStep?(): void;
  /** After a failed step, to drop pending state (CRD's pending memory update). */
  discardPendingUpdate?(): void;
  preStage?: PreStage;
}

/** What a method factory gets. */
export interface MethodContext {
  /** `distillStudent: objectives[2] ('vid')`: prefix of every error. */
  where: string;
  student: OutputShapes;
  teacher: OutputShapes;
  studentName: string;
  numClasses: number;
  /** Dataset indices and labels of the training set (CRD's memory bank). */
  trainIndices: Int32Array;
  trainLabels: Int32Array;
  seed: number;
  /** Student variables (pre-stages of AB/FSP train them). */
  studentVariables: tf.Variable[];
  /** The main learning rate (pre-stage default for non-ResNet/WRN students). */
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

/** A method of the registry. */
export interface MethodDefinition {
  name: string;
  /** One line for the README and error messages. */
  summary: string;
  /**
   * The reference weights (RepDistiller's script; DKD: mdistiller's; ICD: its authors'), or undefined for a
   * method the reference scripts do not run.
   */
  referenceWeights: ReferenceWeights | undefined;
  /** Option keys the method itself accepts (those of its loss or head, minus the inferred sizes). */
  optionKeys: readonly string[];
  create(context: MethodContext, options: Record<string, unknown>): MethodInstance;
}
