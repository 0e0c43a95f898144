import * as tf from '@tensorflow/tfjs-core';
import { vidLoss } from '../info/index';
import { matchSpatialSize } from '../spatial';
import { assertNumber } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, optionalSize } from './checks';
import { conv1x1, defaultInit } from './layers';
import { RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import { channelSizes, type InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface VidRegularizerOptions extends RegularizerOptions {
  /** Channels C_s of the student feature map. Default: inferred from the first `loss()` call. */
  studentChannels?: number;
  /** Channels C_t of the teacher feature map. Default: inferred from the first `loss()` call. */
  teacherChannels?: number;
  /** Width of the regressor's two hidden 1×1 convolutions. Default `teacherChannels` (RepDistiller). */
  hiddenChannels?: number;
  /** σ² of every channel at initialisation. Default 5. */
  initialVariance?: number;
  /** ε in σ²_c = softplus(α_c) + ε. Default 1e-5. */
  epsilon?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/** α such that softplus(α) + ε = v: α = log(exp(v − ε) − 1). */
export function inverseSoftplusVariance(variance: number, epsilon: number): number {
  const x = variance - epsilon;
  // log(e^x − 1) = x + log(1 − e^−x), which stays finite for large x
  return x + Math.log(-Math.expm1(-x));
}

/**
 * The variance options every VID head shares: σ²₀ = `initialVariance` (default 5) and ε (default 1e-5), both
 * positive with σ²₀ > ε, and the α₀ that starts σ² = softplus(α) + ε at σ²₀.
 */
export function resolveVariance(
  fn: string,
  options: { initialVariance?: number; epsilon?: number },
): { initialVariance: number; epsilon: number; alpha0: number } {
  const initialVariance = assertNumber(fn, 'initialVariance', options.initialVariance ?? 5, { positive: true });
  const epsilon = assertNumber(fn, 'epsilon', options.epsilon ?? 1e-5, { positive: true });
  if (!(initialVariance > epsilon)) {
    throw new Error(
      `${fn}: initialVariance (${initialVariance}) must exceed epsilon (${epsilon}): σ² = softplus(α) + ε > ε`,
    );
  }
  return { initialVariance, epsilon, alpha0: inverseSoftplusVariance(initialVariance, epsilon) };
}

/**
 * Variational Information Distillation between feature maps (VID-I; Ahn et al., CVPR 2019), as in
 * RepDistiller's `VIDLoss`. A Gaussian q(t | s) with mean μ(s) and one variance per teacher channel:
 *
 *   μ(s) = conv1×1(ReLU(conv1×1(ReLU(conv1×1(s)))))   (bias-free, C_s → H → H → C_t)
 *   σ²_c = softplus(α_c) + ε,  α initialised so that σ² = initialVariance
 *   L = mean_{n,h,w,c} ½ (log σ²_c + (t − μ(s))² / σ²_c)
 *
 * Minimising L maximises the variational lower bound on I(t; s). Maps are NHWC; when the spatial sizes
 * differ the larger map is average-pooled to the smaller one first (the pooled student map goes through
 * the regressor). The weights use PyTorch's default initialisation from `seed`. Channel counts left out are
 * inferred from the first `loss()` call (or `build()`), with the same weights as if they had been given.
 *
 * @example
 * const vid = new VidRegularizer({ seed: 1 }); // channels inferred from the first call
 * vid.build({ student: studentFeature.shape, teacher: teacherFeature.shape }); // so its variables exist now
 * optimizer.minimize(() => tf.add(ce(student(x)), vid.loss(studentFeature(x), teacherFeature)), false,
 *   collectTrainableVariables({ model: student, regularizers: [vid] }));
 */
export class VidRegularizer extends RegularizerBase {
  private readonly config: {
    studentChannels?: number;
    teacherChannels?: number;
    hiddenChannels?: number;
    initialVariance: number;
    epsilon: number;
    seed: number;
  };
  private readonly alpha0: number;
  private kernels: tf.Variable[] = [];
  private alpha!: tf.Variable;

  constructor(options: VidRegularizerOptions = {}) {
    const fn = 'VidRegularizer';
    assertKnownOptions(fn, options, [
      'studentChannels',
      'teacherChannels',
      'hiddenChannels',
      'initialVariance',
      'epsilon',
      'seed',
      ...REGULARIZER_OPTION_KEYS,
    ]);
    super(fn, options);
    const studentChannels = optionalSize(fn, 'studentChannels', options.studentChannels);
    const teacherChannels = optionalSize(fn, 'teacherChannels', options.teacherChannels);
    const hiddenChannels = optionalSize(fn, 'hiddenChannels', options.hiddenChannels);
    const { initialVariance, epsilon, alpha0 } = resolveVariance(fn, options);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentChannels, teacherChannels, hiddenChannels, initialVariance, epsilon, seed };
    this.alpha0 = alpha0;
    if (studentChannels !== undefined && teacherChannels !== undefined) {
      this.createVariables(fn, studentChannels, teacherChannels);
    }
  }

  protected override createVariables(_fn: string, studentChannels: number, teacherChannels: number): void {
    const hiddenChannels = this.config.hiddenChannels ?? teacherChannels;
    Object.assign(this.config, { studentChannels, teacherChannels, hiddenChannels });
    const random = new SeededRandom(this.config.seed);
    const widths = [studentChannels, hiddenChannels, hiddenChannels, teacherChannels];
    this.kernels = [0, 1, 2].map((layer) => {
      const inputs = widths[layer] as number;
      const outputs = widths[layer + 1] as number;
      return this.addVariable(`regressor/conv${layer + 1}/kernel`, defaultInit(random, inputs * outputs, inputs), [
        inputs,
        outputs,
      ]);
    });
    this.alpha = this.addVariable('alpha', new Float32Array(teacherChannels).fill(this.alpha0), [teacherChannels]);
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    return channelSizes(this.config, { student: ['regressor/conv1/kernel', 0], teacher: ['alpha', 0] });
  }

  getConfig(): RegularizerConfig {
    return this.configWith(this.config);
  }

  /** The regressor's mean μ(s) for an NHWC student map with C_s channels. */
  mean(studentFeature: tf.Tensor4D): tf.Tensor4D {
    this.assertBuilt('mean');
    const [first, second, third] = this.kernels as [tf.Variable, tf.Variable, tf.Variable];
    return tf.tidy(() => conv1x1(tf.relu(conv1x1(tf.relu(conv1x1(studentFeature, first)), second)), third));
  }

  /** σ²_c = softplus(α_c) + ε per teacher channel. */
  variance(): tf.Tensor1D {
    this.assertBuilt('variance');
    return tf.tidy(() => tf.add(tf.softplus(this.alpha), this.config.epsilon));
  }

  /**
   * −log q(t | s) up to a constant, averaged over every element (see the class docs).
   *
   * @param studentFeature float32 `[N, H_s, W_s, C_s]`.
   * @param teacherFeature float32 `[N, H_t, W_t, C_t]` (keep the teacher out of the gradient).
   */
  loss(studentFeature: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'VidRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs(fn, 'studentFeature', studentFeature, 'teacherFeature', teacherFeature);
    this.beginLoss(fn, s, t);
    return tf.tidy(() => {
      const [student, teacher] = matchSpatialSize({ fn, student: s, teacher: t });
      return vidLoss(teacher, this.mean(student), this.alpha, {
        epsilon: this.config.epsilon,
        checkValues: this.checkValues,
      });
    });
  }
}
