import * as tf from '@tensorflow/tfjs-core';
import { vidLoss } from '../info/index';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, assertSize, optionalSize } from './checks';
import { dense } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import type { InferredSizes, MapSize } from './inferred-sizes';
import { resolveVariance } from './vid-regularizer';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface VidVectorRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's hidden vector (an MLP layer). Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** `[H, W, C_t]` of the teacher's feature map. Default: inferred from the first `loss()` call. */
  teacherShape?: [number, number, number];
  /** σ² of every teacher channel at initialisation. Default 5. */
  initialVariance?: number;
  /** ε in σ²_c = softplus(α_c) + ε. Default 1e-5. */
  epsilon?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/**
 * Variational information distillation from a teacher's NHWC feature map to a non-spatial student's hidden
 * vector (VID's CNN → MLP transfer; Ahn et al., CVPR 2019). A student vector has no positions to which a
 * 1×1-conv regressor could be applied, so the mean is one fully connected layer from the vector onto the whole
 * flattened map, while the variance stays one per teacher channel, shared by every position as in VID-I:
 *
 *   μ(s) = reshape(W s + b, [H, W, C_t])     W: [D_s, H·W·C_t]
 *   σ²_c = softplus(α_c) + ε,  α initialised so that σ² = initialVariance
 *   L = mean_{n,h,w,c} ½ (log σ²_c + (t − μ(s))² / σ²_c)
 *
 * The bias, the mean reduction and σ²₀ = 5 follow RepDistiller's VID-I; the weights use PyTorch's default
 * initialisation (uniform ±1/√D_s) from `seed`. W has D_s·H·W·C_t entries: pick a teacher map of moderate size.
 * Sizes left out are inferred from the first `loss()` call (or `build()`), with the same weights as if they had
 * been given; `loadWeights` can build an unbuilt head only when `teacherShape` was given (H·W is ambiguous).
 *
 * @example
 * const vid = new VidVectorRegularizer({ studentDim: 256, teacherShape: [8, 8, 64], seed: 1 });
 * const loss = vid.loss(studentHidden, teacherMap); // [N, 256], [N, 8, 8, 64]
 */
export class VidVectorRegularizer extends RegularizerBase {
  private readonly config: {
    studentDim?: number;
    teacherShape?: [number, number, number];
    initialVariance: number;
    epsilon: number;
    seed: number;
  };
  private readonly alpha0: number;
  private meanLayer!: DenseWeights;
  private alpha!: tf.Variable;

  constructor(options: VidVectorRegularizerOptions = {}) {
    const fn = 'VidVectorRegularizer';
    const known = ['studentDim', 'teacherShape', 'initialVariance', 'epsilon', 'seed', ...REGULARIZER_OPTION_KEYS];
    assertKnownOptions(fn, options, known);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const shape = options.teacherShape as unknown;
    if (shape !== undefined && (!Array.isArray(shape) || shape.length !== 3)) {
      throw new Error(`${fn}: teacherShape must be [H, W, C_t], got ${JSON.stringify(shape)}`);
    }
    const teacherShape = shape?.map((size, index) => assertSize(fn, `teacherShape[${index}]`, size)) as
      | [number, number, number]
      | undefined;
    const { initialVariance, epsilon, alpha0 } = resolveVariance(fn, options);
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherShape, initialVariance, epsilon, seed };
    this.alpha0 = alpha0;
    if (studentDim !== undefined && teacherShape !== undefined) this.createVariables(fn, studentDim, teacherShape);
  }

  protected override createVariables(_fn: string, studentDim: number, teacherShape: MapSize): void {
    Object.assign(this.config, { studentDim, teacherShape });
    const [height, width, channels] = teacherShape;
    const units = height * width * channels;
    const random = new SeededRandom(this.config.seed);
    this.meanLayer = this.addDense(random, 'mean', studentDim, units);
    this.alpha = this.addVariable('alpha', new Float32Array(channels).fill(this.alpha0), [channels]);
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    const { studentDim, teacherShape } = this.config;
    return {
      student: { kind: 'vector', layout: '[N, D_s]', size: studentDim, saved: ['mean/kernel', 0] },
      teacher: { kind: 'map', layout: '[N, H, W, C_t]', size: teacherShape },
    };
  }

  getConfig(): RegularizerConfig {
    const { teacherShape } = this.config;
    return this.configWith({ ...this.config, teacherShape: teacherShape && [...teacherShape] });
  }

  /** The mean μ(s) `[N, H, W, C_t]` for `[N, D_s]` student vectors. */
  mean(studentVector: tf.Tensor2D): tf.Tensor4D {
    this.assertBuilt('mean');
    const [height, width, channels] = this.config.teacherShape as [number, number, number];
    const { kernel, bias } = this.meanLayer;
    return tf.tidy(() =>
      tf.reshape(dense(studentVector, kernel, bias), [studentVector.shape[0], height, width, channels]),
    );
  }

  /** σ²_c = softplus(α_c) + ε per teacher channel. */
  variance(): tf.Tensor1D {
    this.assertBuilt('variance');
    return tf.tidy(() => tf.add(tf.softplus(this.alpha), this.config.epsilon));
  }

  /**
   * −log q(t | s) up to a constant, averaged over every element (see the class docs).
   *
   * @param studentVector float32 `[N, D_s]`.
   * @param teacherFeature float32 `[N, H, W, C_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'VidVectorRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor2D>(fn, 'studentVector', studentVector, 'teacherFeature', teacherFeature);
    this.beginLoss(fn, s, t);
    const vidOptions = { epsilon: this.config.epsilon, checkValues: this.checkValues };
    return tf.tidy(() => vidLoss(t, this.mean(s), this.alpha, vidOptions));
  }
}
