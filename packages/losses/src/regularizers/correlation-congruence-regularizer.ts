import * as tf from '@tensorflow/tfjs-core';
import { correlationCongruenceLoss } from '../baselines/index';
import { assertSameBatch, type ValueCheckOption } from '../validate';
import { assertInput, assertKnownOptions, assertSize } from './checks';
import { defaultInit, dense } from './layers';
import { SeededRandom, resolveSeed } from './random';
import { RegularizerBase, type RegularizerConfig, type ResolvedOptions } from './regularizer';

export interface CorrelationCongruenceRegularizerOptions extends ValueCheckOption {
  /** Size D_s of the student's penultimate vector. */
  studentDim: number;
  /** Size D_t of the teacher's penultimate vector. */
  teacherDim: number;
  /** Size of both embeddings. Default 128. */
  embedDim?: number;
  /** Seed of the weight initialisation. Default: random (recorded in `getConfig()`). */
  seed?: number;
}

/**
 * Correlation Congruence (CC; Peng et al., ICCV 2019) with RepDistiller's heads: both penultimate vectors go
 * through a trained `LinearEmbed` (W x + c, no normalisation) to `embedDim`, then
 * `correlationCongruenceLoss(e_s, e_t)`, the mean over consecutive batch rows of ⟨δ_i, δ_{i+1}⟩ with
 * δ = |e_s − e_t|.
 *
 * @example
 * const cc = new CorrelationCongruenceRegularizer({ studentDim: 64, teacherDim: 256, seed: 1 });
 * const loss = cc.loss(studentVector, teacherVector);
 */
export class CorrelationCongruenceRegularizer extends RegularizerBase {
  private readonly config: ResolvedOptions<CorrelationCongruenceRegularizerOptions>;
  private readonly studentKernel: tf.Variable;
  private readonly studentBias: tf.Variable;
  private readonly teacherKernel: tf.Variable;
  private readonly teacherBias: tf.Variable;

  constructor(options: CorrelationCongruenceRegularizerOptions) {
    const fn = 'CorrelationCongruenceRegularizer';
    assertKnownOptions(fn, options, ['studentDim', 'teacherDim', 'embedDim', 'seed']);
    super(fn, options.checkValues);
    const studentDim = assertSize(fn, 'studentDim', options.studentDim);
    const teacherDim = assertSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const seed = resolveSeed(fn, options.seed);
    this.config = { studentDim, teacherDim, embedDim, seed };
    const random = new SeededRandom(seed);
    this.studentKernel = this.addVariable('embed/student/kernel', defaultInit(random, studentDim * embedDim, studentDim), [studentDim, embedDim]);
    this.studentBias = this.addVariable('embed/student/bias', defaultInit(random, embedDim, studentDim), [embedDim]);
    this.teacherKernel = this.addVariable('embed/teacher/kernel', defaultInit(random, teacherDim * embedDim, teacherDim), [teacherDim, embedDim]);
    this.teacherBias = this.addVariable('embed/teacher/bias', defaultInit(random, embedDim, teacherDim), [embedDim]);
  }

  getConfig(): RegularizerConfig {
    return { ...this.config };
  }

  /**
   * @param studentVector float32 `[N, D_s]`.
   * @param teacherVector float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor): tf.Scalar {
    const fn = 'CorrelationCongruenceRegularizer.loss';
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
      correlationCongruenceLoss(
        dense(s, this.studentKernel, this.studentBias),
        dense(t, this.teacherKernel, this.teacherBias),
        { checkValues: this.checkValues },
      ),
    );
  }
}
