import * as tf from '@tensorflow/tfjs-core';
import { vidLoss } from '../info/index';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, optionalSize } from './checks';
import { dense } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import type { InferredSizes } from './inferred-sizes';
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
  private meanLayer!: DenseWeights;
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
    if (studentDim !== undefined && teacherDim !== undefined) this.createVariables(fn, studentDim, teacherDim);
  }

  protected override createVariables(_fn: string, studentDim: number, teacherDim: number): void {
    Object.assign(this.config, { studentDim, teacherDim });
    const random = new SeededRandom(this.config.seed);
    this.meanLayer = this.addDense(random, 'mean', studentDim, teacherDim);
    this.alpha = this.addVariable('alpha', new Float32Array(teacherDim).fill(this.alpha0), [teacherDim]);
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    const { studentDim, teacherDim } = this.config;
    return {
      student: { kind: 'vector', layout: '[N, D_s]', size: studentDim, saved: ['mean/kernel', 0] },
      teacher: { kind: 'vector', layout: '[N, D_t]', size: teacherDim, saved: ['alpha', 0] },
    };
  }

  getConfig(): RegularizerConfig {
    return this.configWith(this.config);
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
    const [s, t] = this.checkInputs<tf.Tensor2D>(fn, 'studentVector', studentVector, 'teacherLogits', teacherLogits);
    this.beginLoss(fn, s, t);
    const vidOptions = { epsilon: this.config.epsilon, checkValues: this.checkValues };
    return tf.tidy(() => vidLoss(t, dense(s, this.meanLayer.kernel, this.meanLayer.bias), this.alpha, vidOptions));
  }
}
