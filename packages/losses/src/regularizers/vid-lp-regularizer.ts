import * as tf from '@tensorflow/tfjs-core';
import { vidLoss } from '../info/index';
import { assertSameBatch, type ValueCheckOption } from '../validate';
import { assertInput, assertKnownOptions, assertSize } from './checks';
import { defaultInit, dense } from './layers';
import { SeededRandom, resolveSeed } from './random';
import { RegularizerBase, type RegularizerConfig, type ResolvedOptions } from './regularizer';
import { resolveVariance } from './vid-regularizer';

export interface VidLpRegularizerOptions extends ValueCheckOption {
  /** Size D_s of the student's penultimate vector. */
  studentDim: number;
  /** Size D_t of the teacher's logit vector (its number of classes). */
  teacherDim: number;
  /** σ² of every unit at initialisation. Default 5. */
  initialVariance?: number;
  /** ε in σ²_k = softplus(α_k) + ε. Default 1e-5. */
  epsilon?: number;
  /** Seed of the weight initialisation. Default: random (recorded in `getConfig()`). */
  seed?: number;
}

/**
 * VID-LP (Ahn et al., CVPR 2019): variational information distillation from the teacher's logits to the
 * student's penultimate vector. A Gaussian q(t | s) whose mean is a linear map of s and whose variance is
 * learned per logit unit:
 *
 *   μ(s) = W s + b,   σ²_k = softplus(α_k) + ε,   L = mean_{n,k} ½ (log σ²_k + (t_k − μ_k(s))² / σ²_k)
 *
 * The note we work from has the paper's summary only (linear mean, per-unit variance), not its exact
 * equation; the bias b, the mean reduction and σ²₀ = 5 follow RepDistiller's VID-I.
 *
 * @example
 * const vidLp = new VidLpRegularizer({ studentDim: 64, teacherDim: 10, seed: 1 });
 * const loss = vidLp.loss(studentPenultimate, teacherLogits);
 */
export class VidLpRegularizer extends RegularizerBase {
  private readonly config: ResolvedOptions<VidLpRegularizerOptions>;
  private readonly kernel: tf.Variable;
  private readonly bias: tf.Variable;
  private readonly alpha: tf.Variable;

  constructor(options: VidLpRegularizerOptions) {
    const fn = 'VidLpRegularizer';
    assertKnownOptions(fn, options, ['studentDim', 'teacherDim', 'initialVariance', 'epsilon', 'seed']);
    super(fn, options.checkValues);
    const studentDim = assertSize(fn, 'studentDim', options.studentDim);
    const teacherDim = assertSize(fn, 'teacherDim', options.teacherDim);
    const { initialVariance, epsilon, alpha0 } = resolveVariance(fn, options);
    const seed = resolveSeed(fn, options.seed);
    this.config = { studentDim, teacherDim, initialVariance, epsilon, seed };

    const random = new SeededRandom(seed);
    this.kernel = this.addVariable('mean/kernel', defaultInit(random, studentDim * teacherDim, studentDim), [studentDim, teacherDim]);
    this.bias = this.addVariable('mean/bias', defaultInit(random, teacherDim, studentDim), [teacherDim]);
    this.alpha = this.addVariable('alpha', new Float32Array(teacherDim).fill(alpha0), [teacherDim]);
  }

  getConfig(): RegularizerConfig {
    return { ...this.config };
  }

  /** σ²_k = softplus(α_k) + ε per logit unit. */
  variance(): tf.Tensor1D {
    return tf.tidy(() => tf.add(tf.softplus(this.alpha), this.config.epsilon));
  }

  /**
   * @param studentVector float32 `[N, D_s]`, the student's penultimate (pooled) features.
   * @param teacherLogits float32 `[N, D_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherLogits: tf.Tensor): tf.Scalar {
    const fn = 'VidLpRegularizer.loss';
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
    const t = assertInput(fn, 'teacherLogits', teacherLogits, '[N, D_t]', [this.config.teacherDim], checks);
    assertSameBatch(fn, 'studentVector', s, 'teacherLogits', t);
    return tf.tidy(
      () => vidLoss(t,
      dense(s, this.kernel, this.bias),
      this.alpha,
      { epsilon: this.config.epsilon, checkValues: this.checkValues }),
    );
  }
}
