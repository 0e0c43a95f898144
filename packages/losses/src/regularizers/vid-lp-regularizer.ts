import * as tf from '@tensorflow/tfjs-core';
import { vidLoss } from '../info/index';
import { assertSameBatch } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertInput, assertKnownOptions, assertShape, optionalSize } from './checks';
import { defaultInit, dense } from './layers';
import { RegularizerBase, type RegularizerConfig, type RegularizerOptions, withoutUndefined } from './regularizer';
import { resolveVariance } from './vid-regularizer';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface VidLpRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's penultimate vector. Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** Size D_t of the teacher's logit vector (its number of classes). Default: inferred from the first call. */
  teacherDim?: number;
  /** σ² of every unit at initialisation. Default 5. */
  initialVariance?: number;
  /** ε in σ²_k = softplus(α_k) + ε. Default 1e-5. */
  epsilon?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/**
 * VID-LP (Ahn et al., CVPR 2019): variational information distillation from the teacher's logits to the
 * student's penultimate vector. A Gaussian q(t | s) whose mean is a linear map of s and whose variance is
 * learned per logit unit:
 *
 *   μ(s) = W s + b,   σ²_k = softplus(α_k) + ε,   L = mean_{n,k} ½ (log σ²_k + (t_k − μ_k(s))² / σ²_k)
 *
 * The paper's exact VID-LP equation could not be checked, only its description (linear mean, per-unit
 * variance); the bias b, the mean reduction and σ²₀ = 5 follow RepDistiller's VID-I. Sizes left out are inferred
 * from the first `loss()` call (or `build()`), with the same weights as if they had been given.
 *
 * @example
 * const vidLp = new VidLpRegularizer({ studentDim: 64, teacherDim: 10, seed: 1 }); // or { seed: 1 }: inferred
 * const loss = vidLp.loss(studentPenultimate, teacherLogits);
 */
export class VidLpRegularizer extends RegularizerBase {
  private readonly config: {
    studentDim?: number;
    teacherDim?: number;
    initialVariance: number;
    epsilon: number;
    seed: number;
  };
  private readonly alpha0: number;
  private kernel!: tf.Variable;
  private bias!: tf.Variable;
  private alpha!: tf.Variable;

  constructor(options: VidLpRegularizerOptions = {}) {
    const fn = 'VidLpRegularizer';
    const known = ['studentDim', 'teacherDim', 'initialVariance', 'epsilon', 'seed', ...REGULARIZER_OPTION_KEYS];
    assertKnownOptions(fn, options, known);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherDim = optionalSize(fn, 'teacherDim', options.teacherDim);
    const { initialVariance, epsilon, alpha0 } = resolveVariance(fn, options);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherDim, initialVariance, epsilon, seed };
    this.alpha0 = alpha0;
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(studentDim, teacherDim);
  }

  private createVariables(studentDim: number, teacherDim: number): void {
    Object.assign(this.config, { studentDim, teacherDim });
    const random = new SeededRandom(this.config.seed);
    this.kernel = this.addVariable('mean/kernel', defaultInit(random, studentDim * teacherDim, studentDim), [studentDim, teacherDim]);
    this.bias = this.addVariable('mean/bias', defaultInit(random, teacherDim, studentDim), [teacherDim]);
    this.alpha = this.addVariable('alpha', new Float32Array(teacherDim).fill(this.alpha0), [teacherDim]);
    this.markBuilt();
  }

  protected override buildFromShapes(fn: string, student: number[], teacher: number[]): void {
    assertShape(fn, 'the student input', student, '[N, D_s]', [this.config.studentDim]);
    assertShape(fn, 'the teacher input', teacher, '[N, D_t]', [this.config.teacherDim]);
    if (!this.built) this.createVariables(student[1] as number, teacher[1] as number);
  }

  protected override buildFromWeights(shapes: ReadonlyMap<string, number[]>): void {
    const studentDim = this.config.studentDim ?? shapes.get('mean/kernel')?.[0];
    const teacherDim = this.config.teacherDim ?? shapes.get('alpha')?.[0];
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(studentDim, teacherDim);
  }

  getConfig(): RegularizerConfig {
    return { ...withoutUndefined(this.config), ...this.baseConfig() };
  }

  /** σ²_k = softplus(α_k) + ε per logit unit. */
  variance(): tf.Tensor1D {
    this.assertBuilt('variance');
    return tf.tidy(() => tf.add(tf.softplus(this.alpha), this.config.epsilon));
  }

  /**
   * @param studentVector float32 `[N, D_s]`, the student's penultimate (pooled) features.
   * @param teacherLogits float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherLogits: tf.Tensor): tf.Scalar {
    const fn = 'VidLpRegularizer.loss';
    this.assertUsable('loss');
    const { studentDim, teacherDim } = this.config;
    const checks = this.valueChecks();
    const origin = this.sizeOrigin;
    const s = assertInput(fn, 'studentVector', studentVector, '[N, D_s]', [studentDim], checks, origin) as tf.Tensor2D;
    const t = assertInput(fn, 'teacherLogits', teacherLogits, '[N, D_t]', [teacherDim], checks, origin);
    assertSameBatch(fn, 'studentVector', s, 'teacherLogits', t);
    this.buildOnFirstCall(fn, s, t);
    this.watchTraining();
    const vidOptions = { epsilon: this.config.epsilon, checkValues: this.checkValues };
    return tf.tidy(() => vidLoss(t, dense(s, this.kernel, this.bias), this.alpha, vidOptions));
  }
}
