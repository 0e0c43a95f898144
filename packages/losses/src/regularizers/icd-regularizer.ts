import * as tf from '@tensorflow/tfjs-core';
import { icdLoss } from '../info/index';
import { assertNumber } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, assertSize, optionalSize } from './checks';
import { dense } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import { embeddedVectorSizes, type InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface IcdRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's penultimate vector. Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** Size D_t of the teacher's penultimate vector. Default: inferred from the first `loss()` call. */
  teacherDim?: number;
  /** Size of the embeddings. Default 128. */
  embedDim?: number;
  /** Weight α of the invariance term. Default 0.5. */
  alpha?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
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
 * authors' code has it (and so that saved weights match that parameterisation). Sizes left out are inferred from
 * the first `loss()` call (or `build()`), with the same weights as if they had been given.
 *
 * @example
 * const icd = new IcdRegularizer({ studentDim: 64, teacherDim: 256, seed: 1 });
 * const loss = icd.loss(studentVector, teacherVector);
 */
export class IcdRegularizer extends RegularizerBase {
  private readonly config: { studentDim?: number; teacherDim?: number; embedDim: number; alpha: number; seed: number };
  private studentEmbed!: DenseWeights;
  private teacherEmbed!: DenseWeights;
  private logScale!: tf.Variable;
  private logitBias!: tf.Variable;

  constructor(options: IcdRegularizerOptions = {}) {
    const fn = 'IcdRegularizer';
    const known = ['studentDim', 'teacherDim', 'embedDim', 'alpha', 'seed', ...REGULARIZER_OPTION_KEYS];
    assertKnownOptions(fn, options, known);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherDim = optionalSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const alpha = assertNumber(fn, 'alpha', options.alpha ?? 0.5, { nonNegative: true });
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherDim, embedDim, alpha, seed };
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(fn, studentDim, teacherDim);
  }

  protected override createVariables(_fn: string, studentDim: number, teacherDim: number): void {
    Object.assign(this.config, { studentDim, teacherDim });
    const { embedDim, seed } = this.config;
    const random = new SeededRandom(seed);
    [this.studentEmbed, this.teacherEmbed] = this.addEmbeddings(random, studentDim, teacherDim, embedDim);
    this.logScale = this.addVariable('logScale', Float32Array.of(1), []);
    this.logitBias = this.addVariable('logitBias', Float32Array.of(0), []);
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    return embeddedVectorSizes(this.config);
  }

  getConfig(): RegularizerConfig {
    return this.configWith(this.config);
  }

  /** κ = min(exp θ, 10). */
  logitScale(): tf.Scalar {
    this.assertBuilt('logitScale');
    return tf.tidy(() => tf.minimum(tf.exp(this.logScale), MAX_LOGIT_SCALE));
  }

  /**
   * @param studentVector float32 `[N, D_s]` (N ≥ 2: the other rows are the negatives).
   * @param teacherVector float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor): tf.Scalar {
    const fn = 'IcdRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor2D, tf.Tensor2D>(
      fn,
      'studentVector',
      studentVector,
      'teacherVector',
      teacherVector,
    );
    this.beginLoss(fn, s, t);
    const { studentEmbed, teacherEmbed } = this;
    return tf.tidy(() =>
      icdLoss(dense(s, studentEmbed.kernel, studentEmbed.bias), dense(t, teacherEmbed.kernel, teacherEmbed.bias), {
        logitScale: this.logitScale(),
        bias: this.logitBias as tf.Tensor as tf.Scalar,
        alpha: this.config.alpha,
        checkValues: this.checkValues,
      }),
    );
  }
}
