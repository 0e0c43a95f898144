import * as tf from '@tensorflow/tfjs-core';
import { icdLoss } from '../info/index';
import { assertNumber, assertSameBatch, type ValueCheckOption } from '../validate';
import { assertInput, assertKnownOptions, assertSize } from './checks';
import { defaultInit, dense } from './layers';
import { SeededRandom, resolveSeed } from './random';
import { RegularizerBase, type RegularizerConfig, type ResolvedOptions } from './regularizer';

export interface IcdRegularizerOptions extends ValueCheckOption {
  /** Size D_s of the student's penultimate vector. */
  studentDim: number;
  /** Size D_t of the teacher's penultimate vector. */
  teacherDim: number;
  /** Size of the embeddings. Default 128. */
  embedDim?: number;
  /** Weight α of the invariance term. Default 0.5. */
  alpha?: number;
  /** Seed of the weight initialisation. Default: random (recorded in `getConfig()`). */
  seed?: number;
}

/** κ = min(exp θ, 10): the effective temperature 1/κ never drops below 0.1. */
const MAX_LOGIT_SCALE = 10;

/**
 * Invariant Consistency Distillation (ICD, later DCD; Giakoumoglou & Stathaki 2024), as in the authors'
 * `ICD.py`. Linear heads (with bias) on both sides, a learnable scale and bias, then `icdLoss`:
 *
 *   z_s = W_s s + c_s,  z_t = W_t t + c_t   (icdLoss L2-normalises the rows)
 *   κ = min(exp θ, 10) with θ₀ = 1,  b₀ = 0
 *   L_ij = κ ⟨ẑ_s,i, ẑ_t,j⟩ + b,  loss = CE(rows of L, diagonal) + α · mean_i KL(R_i ‖ P_i)
 *
 * θ and b are trainable variables like the heads; whether weight decay applies to them (the authors' CIFAR
 * script decays them) is up to your optimizer. Note that b shifts every entry of L equally, which both the
 * row and the column softmax ignore: its gradient is exactly 0 and it never moves. It is kept because the
 * authors' code has it (and so that saved weights match that parameterisation).
 *
 * @example
 * const icd = new IcdRegularizer({ studentDim: 64, teacherDim: 256, seed: 1 });
 * const loss = icd.loss(studentVector, teacherVector);
 */
export class IcdRegularizer extends RegularizerBase {
  private readonly config: ResolvedOptions<IcdRegularizerOptions>;
  private readonly studentKernel: tf.Variable;
  private readonly studentBias: tf.Variable;
  private readonly teacherKernel: tf.Variable;
  private readonly teacherBias: tf.Variable;
  private readonly logScale: tf.Variable;
  private readonly logitBias: tf.Variable;

  constructor(options: IcdRegularizerOptions) {
    const fn = 'IcdRegularizer';
    assertKnownOptions(fn, options, ['studentDim', 'teacherDim', 'embedDim', 'alpha', 'seed']);
    super(fn, options.checkValues);
    const studentDim = assertSize(fn, 'studentDim', options.studentDim);
    const teacherDim = assertSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const alpha = assertNumber(fn, 'alpha', options.alpha ?? 0.5, { nonNegative: true });
    const seed = resolveSeed(fn, options.seed);
    this.config = { studentDim, teacherDim, embedDim, alpha, seed };

    const random = new SeededRandom(seed);
    this.studentKernel = this.addVariable('embed/student/kernel', defaultInit(random, studentDim * embedDim, studentDim), [studentDim, embedDim]);
    this.studentBias = this.addVariable('embed/student/bias', defaultInit(random, embedDim, studentDim), [embedDim]);
    this.teacherKernel = this.addVariable('embed/teacher/kernel', defaultInit(random, teacherDim * embedDim, teacherDim), [teacherDim, embedDim]);
    this.teacherBias = this.addVariable('embed/teacher/bias', defaultInit(random, embedDim, teacherDim), [embedDim]);
    this.logScale = this.addVariable('logScale', Float32Array.of(1), []);
    this.logitBias = this.addVariable('logitBias', Float32Array.of(0), []);
  }

  getConfig(): RegularizerConfig {
    return { ...this.config };
  }

  /** κ = min(exp θ, 10). */
  logitScale(): tf.Scalar {
    return tf.tidy(() => tf.minimum(tf.exp(this.logScale), MAX_LOGIT_SCALE));
  }

  /**
   * @param studentVector float32 `[N, D_s]` (N ≥ 2: the other rows are the negatives).
   * @param teacherVector float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor): tf.Scalar {
    const fn = 'IcdRegularizer.loss';
    this.assertUsable('loss');
    const checks = this.valueChecks();
    const s = assertInput(
      fn,
      'studentVector',
      studentVector,
      '[N, D_s]',
      [this.config.studentDim],
      checks,
    ) as tf.Tensor2D;
    const t = assertInput(
      fn,
      'teacherVector',
      teacherVector,
      '[N, D_t]',
      [this.config.teacherDim],
      checks,
    ) as tf.Tensor2D;
    assertSameBatch(fn, 'studentVector', s, 'teacherVector', t);
    return tf.tidy(() =>
      icdLoss(dense(s, this.studentKernel, this.studentBias), dense(t, this.teacherKernel, this.teacherBias), {
        logitScale: this.logitScale(),
        bias: this.logitBias as tf.Tensor as tf.Scalar,
        alpha: this.config.alpha,
        checkValues: this.checkValues,
      }),
    );
  }
}
