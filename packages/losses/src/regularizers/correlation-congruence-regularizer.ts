import * as tf from '@tensorflow/tfjs-core';
import { correlationCongruenceLoss } from '../baselines/index';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, assertSize, optionalSize } from './checks';
import { dense } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import { embeddedVectorSizes, type InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface CorrelationCongruenceRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's penultimate vector. Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** Size D_t of the teacher's penultimate vector. Default: inferred from the first `loss()` call. */
  teacherDim?: number;
  /** Size of both embeddings. Default 128. */
  embedDim?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/**
 * Correlation Congruence (CC; Peng et al., ICCV 2019) with RepDistiller's heads: both penultimate vectors go
 * through a trained `LinearEmbed` (W x + c, no normalisation) to `embedDim`, then
 * `correlationCongruenceLoss(e_s, e_t)`, the mean over consecutive batch rows of ⟨δ_i, δ_{i+1}⟩ with
 * δ = |e_s − e_t|. Sizes left out are inferred from the first `loss()` call (or `build()`), with the same
 * weights as if they had been given.
 *
 * @example
 * const cc = new CorrelationCongruenceRegularizer({ studentDim: 64, teacherDim: 256, seed: 1 });
 * const loss = cc.loss(studentVector, teacherVector);
 */
export class CorrelationCongruenceRegularizer extends RegularizerBase {
  private readonly config: { studentDim?: number; teacherDim?: number; embedDim: number; seed: number };
  private studentEmbed!: DenseWeights;
  private teacherEmbed!: DenseWeights;

  constructor(options: CorrelationCongruenceRegularizerOptions = {}) {
    const fn = 'CorrelationCongruenceRegularizer';
    assertKnownOptions(fn, options, ['studentDim', 'teacherDim', 'embedDim', 'seed', ...REGULARIZER_OPTION_KEYS]);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherDim = optionalSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherDim, embedDim, seed };
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(fn, studentDim, teacherDim);
  }

  protected override createVariables(_fn: string, studentDim: number, teacherDim: number): void {
    Object.assign(this.config, { studentDim, teacherDim });
    const { embedDim, seed } = this.config;
    const random = new SeededRandom(seed);
    [this.studentEmbed, this.teacherEmbed] = this.addEmbeddings(random, studentDim, teacherDim, embedDim);
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    return embeddedVectorSizes(this.config);
  }

  getConfig(): RegularizerConfig {
    return this.configWith(this.config);
  }

  /**
   * @param studentVector float32 `[N, D_s]`.
   * @param teacherVector float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor): tf.Scalar {
    const fn = 'CorrelationCongruenceRegularizer.loss';
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
      correlationCongruenceLoss(
        dense(s, studentEmbed.kernel, studentEmbed.bias),
        dense(t, teacherEmbed.kernel, teacherEmbed.bias),
        { checkValues: this.checkValues },
      ),
    );
  }
}
