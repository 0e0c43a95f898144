import * as tf from '@tensorflow/tfjs-core';
import { fitNetLoss } from '../baselines/index';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions } from './checks';
import { batchNormTraining, conv1x1, conv2d, conv2dTranspose, defaultInit } from './layers';
import { RegularizerBase, type RegularizerConfig, type RegularizerOptions, withoutUndefined } from './regularizer';
import type { InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

/** The shape of one feature map without the batch axis: `[height, width, channels]`. */
export type FeatureShape = [number, number, number];

export interface FitNetRegularizerOptions extends RegularizerOptions {
  /** `[H_s, W_s, C_s]` of the student's hint layer. Default: inferred from the first `loss()` call. */
  studentShape?: FeatureShape;
  /** `[H_t, W_t, C_t]` of the teacher's hint layer. Default: inferred from the first `loss()` call. */
  teacherShape?: FeatureShape;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /**
   * What follows the batch normalisation: `'relu'` (FitNets' hint regressor, the default) or `'none'`, which
   * makes the regressor RepDistiller's AB `Connector` (conv + BN mapping a pre-activation map onto the
   * teacher's, whose sign must survive).
   */
  activation?: FitNetActivation;
}

/** The activation after the regressor's batch normalisation. */
export type FitNetActivation = 'relu' | 'none';

/** Which convolution maps the student size onto the teacher's (RepDistiller's `ConvReg` rule). */
export type FitNetRegressorKind = 'conv3x3-stride2' | 'transposed4x4-stride2' | 'conv-valid';

function assertFeatureShape(fn: string, arg: string, value: unknown): FeatureShape {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((size) => Number.isInteger(size) && size > 0)) {
    throw new Error(
      `${fn}: ${arg} must be [height, width, channels] with positive integers, got ${JSON.stringify(value)}`,
    );
  }
  return [value[0], value[1], value[2]] as FeatureShape;
}

/**
 * FitNets hints (Romero et al., ICLR 2015) with RepDistiller's `ConvReg` regressor, chosen from the spatial
 * sizes:
 * - H_s = 2·H_t: conv 3×3, stride 2, padding 1;
 * - 2·H_s = H_t: transposed conv 4×4, stride 2, padding 1;
 * - otherwise (H_s ≥ H_t, W_s ≥ W_t): conv with kernel (1 + H_s − H_t, 1 + W_s − W_t), no padding;
 *
 * each with a bias, followed by batch normalisation and ReLU, then `fitNetLoss(r(s), t)` = mean (r(s) − t)².
 * The batch normalisation always uses the batch's own statistics (training mode) and keeps no running
 * averages: the regressor exists only to compute the training loss.
 *
 * With `activation: 'none'` the regressor is r(s) = BN(conv(s)), RepDistiller's AB `Connector`: call
 * {@link FitNetRegularizer.regress} to map a student pre-activation map onto the teacher's shape before
 * `abLoss` (a ReLU would erase the negative side the activation boundary is about).
 *
 * Shapes left out are inferred from the first `loss()` call (or `build()`; `regress()` needs a built head), with
 * the same weights as if they had been given. Saved weights do not determine the spatial sizes, so an unbuilt
 * head must be built before `loadWeights`.
 *
 * @example
 * const fitnet = new FitNetRegularizer({ studentShape: [16, 16, 32], teacherShape: [8, 8, 64], seed: 1 });
 * const loss = fitnet.loss(studentMap, teacherMap);
 * // AB connector: channel-only difference, a 1×1 conv + BN without ReLU
 * const connector = new FitNetRegularizer({ studentShape: [8, 8, 16], teacherShape: [8, 8, 64], activation: 'none' });
 * const abTerm = abLoss([connector.regress(studentPreact)], [teacherPreact]);
 */
export class FitNetRegularizer extends RegularizerBase {
  /** What follows the batch normalisation (`'none'`: AB's connector). */
  readonly activation: FitNetActivation;
  private readonly config: { studentShape?: FeatureShape; teacherShape?: FeatureShape; seed: number };
  private kind: FitNetRegressorKind | undefined;
  private kernel!: tf.Variable;
  private bias!: tf.Variable;
  private gamma!: tf.Variable;
  private beta!: tf.Variable;

  constructor(options: FitNetRegularizerOptions = {}) {
    const fn = 'FitNetRegularizer';
    assertKnownOptions(fn, options, ['studentShape', 'teacherShape', 'seed', 'activation', ...REGULARIZER_OPTION_KEYS]);
    super(fn, options);
    const shapeOption = (arg: 'studentShape' | 'teacherShape'): FeatureShape | undefined =>
      options[arg] === undefined ? undefined : assertFeatureShape(fn, arg, options[arg]);
    const studentShape = shapeOption('studentShape');
    const teacherShape = shapeOption('teacherShape');
    const activation = options.activation ?? 'relu';
    if (activation !== 'relu' && activation !== 'none') {
      throw new Error(`${fn}: activation must be 'relu' or 'none', got ${JSON.stringify(activation)}`);
    }
    this.activation = activation;
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentShape, teacherShape, seed };
    if (studentShape !== undefined && teacherShape !== undefined) this.createVariables(fn, studentShape, teacherShape);
  }

  /** The regressor this instance built (chosen from the spatial sizes; throws until built). */
  get regressorKind(): FitNetRegressorKind {
    this.assertBuilt('regressorKind');
    return this.kind as FitNetRegressorKind;
  }

  protected override createVariables(fn: string, studentShape: FeatureShape, teacherShape: FeatureShape): void {
    const [sh, sw, sc] = studentShape;
    const [th, tw, tc] = teacherShape;
    const random = new SeededRandom(this.config.seed);
    if (sh === 2 * th && sw === 2 * tw) {
      this.kind = 'conv3x3-stride2';
      this.kernel = this.addVariable('regressor/kernel', defaultInit(random, 9 * sc * tc, 9 * sc), [3, 3, sc, tc]);
      this.bias = this.addVariable('regressor/bias', defaultInit(random, tc, 9 * sc), [tc]);
    } else if (2 * sh === th && 2 * sw === tw) {
      this.kind = 'transposed4x4-stride2';
      // PyTorch's transposed-conv weight is [in, out, k, k] and its default init takes fan_in from dim 1 (out·k·k)
      this.kernel = this.addVariable('regressor/kernel', defaultInit(random, 16 * tc * sc, 16 * tc), [4, 4, tc, sc]);
      this.bias = this.addVariable('regressor/bias', defaultInit(random, tc, 16 * tc), [tc]);
    } else if (sh >= th && sw >= tw) {
      this.kind = 'conv-valid';
      const kh = 1 + sh - th;
      const kw = 1 + sw - tw;
      this.kernel = this.addVariable('regressor/kernel', defaultInit(random, kh * kw * sc * tc, kh * kw * sc), [
        kh,
        kw,
        sc,
        tc,
      ]);
      this.bias = this.addVariable('regressor/bias', defaultInit(random, tc, kh * kw * sc), [tc]);
    } else {
      throw new Error(
        `${fn}: no regressor maps a ${sh}x${sw} student map onto a ${th}x${tw} teacher map ` +
          `(supported: student twice, half, or at least the teacher's size)`,
      );
    }
    this.gamma = this.addVariable('regressor/batchNorm/gamma', new Float32Array(tc).fill(1), [tc]);
    this.beta = this.addVariable('regressor/batchNorm/beta', new Float32Array(tc), [tc]);
    Object.assign(this.config, { studentShape, teacherShape });
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    const { studentShape, teacherShape } = this.config;
    return {
      student: { kind: 'map', layout: '[N, H_s, W_s, C_s]', size: studentShape },
      teacher: { kind: 'map', layout: '[N, H_t, W_t, C_t]', size: teacherShape },
    };
  }

  getConfig(): RegularizerConfig {
    const { studentShape, teacherShape, seed } = this.config;
    return {
      ...withoutUndefined({
        studentShape: studentShape && [...studentShape],
        teacherShape: teacherShape && [...teacherShape],
      }),
      seed,
      activation: this.activation,
      ...this.baseConfig(),
    };
  }

  /**
   * r(s) = ReLU(BN(conv(s))), or BN(conv(s)) with `activation: 'none'`: the student map regressed to the
   * teacher's shape `[N, H_t, W_t, C_t]` (batch statistics of this batch; differentiable in s and the weights).
   *
   * @param studentFeature float32 `[N, H_s, W_s, C_s]` as configured.
   */
  regress(studentFeature: tf.Tensor): tf.Tensor4D {
    this.assertUsable('regress');
    this.assertBuilt('regress');
    const fn = 'FitNetRegularizer.regress';
    const s = this.checkInput(fn, 'studentFeature', studentFeature, this.inputLayout('student'));
    return this.forward(s as tf.Tensor4D);
  }

  private forward(studentFeature: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const convolved =
        this.kind === 'conv3x3-stride2'
          ? conv2d(studentFeature, this.kernel, this.bias, { stride: 2, padding: 1 })
          : this.kind === 'transposed4x4-stride2'
            ? conv2dTranspose(studentFeature, this.kernel, this.bias, { stride: 2, padding: 1 })
            : this.kernel.shape[0] === 1 && this.kernel.shape[1] === 1
              ? // equal sizes: a 1×1 kernel is a matrix product over positions (much cheaper to differentiate on cpu)
                conv1x1(studentFeature, tf.reshape(this.kernel, this.kernel.shape.slice(2)), this.bias)
              : conv2d(studentFeature, this.kernel, this.bias);
      const normalised = batchNormTraining(convolved, this.gamma, this.beta);
      return this.activation === 'relu' ? tf.relu(normalised) : normalised;
    });
  }

  /**
   * @param studentFeature float32 `[N, H_s, W_s, C_s]` as configured.
   * @param teacherFeature float32 `[N, H_t, W_t, C_t]` as configured (keep the teacher out of the gradient).
   */
  loss(studentFeature: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'FitNetRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor4D>(
      fn,
      'studentFeature',
      studentFeature,
      'teacherFeature',
      teacherFeature,
    );
    this.beginLoss(fn, s, t);
    return tf.tidy(() => fitNetLoss(this.forward(s), t, { checkValues: this.checkValues }));
  }
}
