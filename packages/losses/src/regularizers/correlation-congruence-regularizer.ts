import * as tf from '@tensorflow/tfjs-core';
import { correlationCongruenceLoss } from '../baselines/index';
import { assertSameBatch } from '../validate';
import {
  REGULARIZER_OPTION_KEYS,
  assertInput,
  assertKnownOptions,
  assertShape,
  assertSize,
  optionalSize,
} from './checks';
import { defaultInit, dense } from './layers';
import { RegularizerBase, type RegularizerConfig, type RegularizerOptions, withoutUndefined } from './regularizer';
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
  private studentKernel!: tf.Variable;
  private studentBias!: tf.Variable;
  private teacherKernel!: tf.Variable;
  private teacherBias!: tf.Variable;

  constructor(options: CorrelationCongruenceRegularizerOptions = {}) {
    const fn = 'CorrelationCongruenceRegularizer';
    assertKnownOptions(fn, options, ['studentDim', 'teacherDim', 'embedDim', 'seed', ...REGULARIZER_OPTION_KEYS]);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherDim = optionalSize(fn, 'teacherDim', options.teacherDim);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherDim, embedDim, seed };
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(studentDim, teacherDim);
  }

  private createVariables(studentDim: number, teacherDim: number): void {
    Object.assign(this.config, { studentDim, teacherDim });
    const { embedDim, seed } = this.config;
    const random = new SeededRandom(seed);
    this.studentKernel = this.addVariable('embed/student/kernel', defaultInit(random, studentDim * embedDim, studentDim), [studentDim, embedDim]);
    this.studentBias = this.addVariable('embed/student/bias', defaultInit(random, embedDim, studentDim), [embedDim]);
    this.teacherKernel = this.addVariable('embed/teacher/kernel', defaultInit(random, teacherDim * embedDim, teacherDim), [teacherDim, embedDim]);
    this.teacherBias = this.addVariable('embed/teacher/bias', defaultInit(random, embedDim, teacherDim), [embedDim]);
    this.markBuilt();
  }

  protected override buildFromShapes(fn: string, student: number[], teacher: number[]): void {
    assertShape(fn, 'the student input', student, '[N, D_s]', [this.config.studentDim]);
    assertShape(fn, 'the teacher input', teacher, '[N, D_t]', [this.config.teacherDim]);
    if (!this.built) this.createVariables(student[1] as number, teacher[1] as number);
  }

  protected override buildFromWeights(shapes: ReadonlyMap<string, number[]>): void {
    const studentDim = this.config.studentDim ?? shapes.get('embed/student/kernel')?.[0];
    const teacherDim = this.config.teacherDim ?? shapes.get('embed/teacher/kernel')?.[0];
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(studentDim, teacherDim);
  }

  getConfig(): RegularizerConfig {
    return { ...withoutUndefined(this.config), ...this.baseConfig() };
  }

  /**
   * @param studentVector float32 `[N, D_s]`.
   * @param teacherVector float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherVector: tf.Tensor): tf.Scalar {
    const fn = 'CorrelationCongruenceRegularizer.loss';
    this.assertUsable('loss');
    const { studentDim, teacherDim } = this.config;
    const checks = this.valueChecks();
    const origin = this.sizeOrigin;
    const s = assertInput(
      fn, 'studentVector', studentVector, '[N, D_s]', [studentDim], checks, origin,
    ) as tf.Tensor2D;
    const t = assertInput(
      fn, 'teacherVector', teacherVector, '[N, D_t]', [teacherDim], checks, origin,
    ) as tf.Tensor2D;
    assertSameBatch(fn, 'studentVector', s, 'teacherVector', t);
    this.buildOnFirstCall(fn, s, t);
    this.watchTraining();
    return tf.tidy(() =>
      correlationCongruenceLoss(
        dense(s, this.studentKernel, this.studentBias),
        dense(t, this.teacherKernel, this.teacherBias),
        { checkValues: this.checkValues },
      ),
    );
  }
}
