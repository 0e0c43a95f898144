import * as tf from '@tensorflow/tfjs-core';
import { factorTransferLoss } from '../baselines/index';
import { assertNumber } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, optionalSize } from './checks';
import { batchNormTraining, conv2d, conv2dTranspose, defaultInit, stopGradient } from './layers';
import { RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import { channelSizes, type InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

export interface FactorTransferRegularizerOptions extends RegularizerOptions {
  /** Channels C_s of the student map (RepDistiller: the last conv map, `feat[-2]`). Default: inferred. */
  studentChannels?: number;
  /** Channels C_t of the teacher map. Default: inferred from the first `loss()` call. */
  teacherChannels?: number;
  /** Factor rate k: factors have ⌊k·C_t⌋ channels. Default 0.5. */
  rate?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

const LEAKY_SLOPE = 0.1;

interface ConvLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
  gamma?: tf.Variable;
  beta?: tf.Variable;
}

/**
 * Factor Transfer (FT; Kim, Park & Kwak, NeurIPS 2018) with RepDistiller's modules, every convolution 3×3,
 * stride 1, padding 1, with bias, activations LeakyReLU(0.1), factors of F = ⌊k·C_t⌋ channels:
 * - Paraphraser on the teacher map: encoder C_t → C_t → F → F (no batch norm) and a mirrored decoder of
 *   transposed convolutions F → F → C_t → C_t. Trained first, alone, on `reconstructionLoss(t)` =
 *   mean (decoder(encoder(t)) − t)² with `paraphraserVariables` (RepDistiller: 30 epochs), then frozen.
 * - Translator on the student map: C_s → C_s → F → F, each convolution followed by batch normalisation
 *   (training mode, batch statistics) and the activation.
 * - `loss(s, t)` = factorTransferLoss(translator(s), encoder(t)): the teacher factor passes a gradient stop,
 *   and `trainableVariables` is the translator only, so the main stage never moves the paraphraser.
 *
 * Channel counts left out are inferred from the first `loss()` call or from `build()`, with the same weights as
 * if they had been given; the pre-stage comes first, so build such a head before `reconstructionLoss`.
 *
 * @example
 * const ft = new FactorTransferRegularizer({ studentChannels: 64, teacherChannels: 256, seed: 1 });
 * pre.minimize(() => ft.reconstructionLoss(teacherMap), false, ft.paraphraserVariables); // pre-stage
 * opt.minimize(() => tf.add(ce, tf.mul(200, ft.loss(studentMap, teacherMap))), false,
 *   [...studentVariables, ...ft.trainableVariables]);
 */
export class FactorTransferRegularizer extends RegularizerBase {
  private readonly config: { studentChannels?: number; teacherChannels?: number; rate: number; seed: number };
  private encoder: ConvLayer[] = [];
  private decoder: ConvLayer[] = [];
  private translator: ConvLayer[] = [];

  constructor(options: FactorTransferRegularizerOptions = {}) {
    const fn = 'FactorTransferRegularizer';
    assertKnownOptions(fn, options, ['studentChannels', 'teacherChannels', 'rate', 'seed', ...REGULARIZER_OPTION_KEYS]);
    super(fn, options);
    const studentChannels = optionalSize(fn, 'studentChannels', options.studentChannels);
    const teacherChannels = optionalSize(fn, 'teacherChannels', options.teacherChannels);
    const rate = assertNumber(fn, 'rate', options.rate ?? 0.5, { positive: true });
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentChannels, teacherChannels, rate, seed };
    if (teacherChannels !== undefined) this.factorChannelsFor(fn, teacherChannels);
    if (studentChannels !== undefined && teacherChannels !== undefined) {
      this.createVariables(fn, studentChannels, teacherChannels);
    }
  }

  /** ⌊k·C_t⌋, the channels of a factor (throws until built when `teacherChannels` was left out). */
  get factorChannels(): number {
    if (this.config.teacherChannels === undefined) this.assertBuilt('factorChannels');
    return Math.floor((this.config.teacherChannels as number) * this.config.rate);
  }

  private factorChannelsFor(fn: string, teacherChannels: number): number {
    const { rate } = this.config;
    const factorChannels = Math.floor(teacherChannels * rate);
    if (factorChannels < 1) {
      throw new Error(`${fn}: rate ${rate} × teacherChannels ${teacherChannels} leaves no factor channel`);
    }
    return factorChannels;
  }

  protected override createVariables(fn: string, studentChannels: number, teacherChannels: number): void {
    const factorChannels = this.factorChannelsFor(fn, teacherChannels);
    Object.assign(this.config, { studentChannels, teacherChannels });
    const random = new SeededRandom(this.config.seed);
    const layer = (
      name: string,
      inputs: number,
      outputs: number,
      { transposed = false, batchNorm = false } = {},
    ): ConvLayer => {
      // PyTorch's transposed-conv weight is [in, out, k, k]; its default init takes fan_in from dim 1
      const fanIn = 9 * (transposed ? outputs : inputs);
      const shape = transposed ? [3, 3, outputs, inputs] : [3, 3, inputs, outputs];
      const built: ConvLayer = {
        kernel: this.addVariable(`${name}/kernel`, defaultInit(random, 9 * inputs * outputs, fanIn), shape),
        bias: this.addVariable(`${name}/bias`, defaultInit(random, outputs, fanIn), [outputs]),
      };
      if (batchNorm) {
        built.gamma = this.addVariable(`${name}/batchNorm/gamma`, new Float32Array(outputs).fill(1), [outputs]);
        built.beta = this.addVariable(`${name}/batchNorm/beta`, new Float32Array(outputs), [outputs]);
      }
      return built;
    };
    const c = teacherChannels;
    const f = factorChannels;
    this.encoder = [
      layer('paraphraser/encoder1', c, c),
      layer('paraphraser/encoder2', c, f),
      layer('paraphraser/encoder3', f, f),
    ];
    this.decoder = [
      layer('paraphraser/decoder1', f, f, { transposed: true }),
      layer('paraphraser/decoder2', f, c, { transposed: true }),
      layer('paraphraser/decoder3', c, c, { transposed: true }),
    ];
    const sc = studentChannels;
    this.translator = [
      layer('translator/conv1', sc, sc, { batchNorm: true }),
      layer('translator/conv2', sc, f, { batchNorm: true }),
      layer('translator/conv3', f, f, { batchNorm: true }),
    ];
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    return channelSizes(this.config, {
      student: ['translator/conv1/kernel', 2],
      teacher: ['paraphraser/encoder1/kernel', 2],
    });
  }

  getConfig(): RegularizerConfig {
    const { studentChannels, teacherChannels, rate, seed } = this.config;
    return this.configWith({ studentChannels, teacherChannels, rate, seed });
  }

  /** The translator's variables: what the main stage optimises. */
  override get trainableVariables(): tf.Variable[] {
    return this.translator.flatMap(variablesOf);
  }

  /** The paraphraser's variables, optimised in the pre-stage by `reconstructionLoss`. */
  get paraphraserVariables(): tf.Variable[] {
    return [...this.encoder, ...this.decoder].flatMap(variablesOf);
  }

  /** The teacher factor encoder(t), `[N, H, W, F]`. */
  teacherFactor(teacherFeature: tf.Tensor4D): tf.Tensor4D {
    this.assertBuilt('teacherFactor');
    return tf.tidy(() =>
      this.encoder.reduce(
        (x, convLayer) => tf.leakyRelu(conv2d(x, convLayer.kernel, convLayer.bias, { padding: 1 }), LEAKY_SLOPE),
        teacherFeature,
      ),
    );
  }

  /** The student factor translator(s), `[N, H, W, F]`. */
  studentFactor(studentFeature: tf.Tensor4D): tf.Tensor4D {
    this.assertBuilt('studentFactor');
    return tf.tidy(() =>
      this.translator.reduce((x, convLayer) => {
        const convolved = conv2d(x, convLayer.kernel, convLayer.bias, { padding: 1 });
        return tf.leakyRelu(
          batchNormTraining(convolved, convLayer.gamma as tf.Variable, convLayer.beta as tf.Variable),
          LEAKY_SLOPE,
        );
      }, studentFeature),
    );
  }

  /**
   * The paraphraser's pre-stage objective: mean (decoder(encoder(t)) − t)².
   *
   * @param teacherFeature float32 `[N, H, W, C_t]`.
   */
  reconstructionLoss(teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'FactorTransferRegularizer.reconstructionLoss';
    this.assertUsable('reconstructionLoss');
    this.assertBuilt('reconstructionLoss');
    const t = this.checkInput(fn, 'teacherFeature', teacherFeature, this.inputLayout('teacher'));
    return tf.tidy(() => {
      const reconstruction = this.decoder.reduce(
        (x, convLayer) =>
          tf.leakyRelu(conv2dTranspose(x, convLayer.kernel, convLayer.bias, { stride: 1, padding: 1 }), LEAKY_SLOPE),
        this.teacherFactor(t as tf.Tensor4D),
      );
      return tf.mean(tf.squaredDifference(reconstruction, t)) as tf.Scalar;
    });
  }

  /**
   * factorTransferLoss(translator(s), encoder(t)) with the teacher factor held constant.
   *
   * @param studentFeature float32 `[N, H, W, C_s]`.
   * @param teacherFeature float32 `[N, H', W', C_t]` (keep the teacher out of the gradient).
   */
  loss(studentFeature: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'FactorTransferRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor4D, tf.Tensor4D>(
      fn,
      'studentFeature',
      studentFeature,
      'teacherFeature',
      teacherFeature,
    );
    this.beginLoss(fn, s, t);
    return tf.tidy(() =>
      factorTransferLoss(this.studentFactor(s), stopGradient(this.teacherFactor(t)), { checkValues: this.checkValues }),
    );
  }
}

function variablesOf(convLayer: ConvLayer): tf.Variable[] {
  return [
    convLayer.kernel,
    convLayer.bias,
    ...(convLayer.gamma ? [convLayer.gamma] : []),
    ...(convLayer.beta ? [convLayer.beta] : []),
  ];
}
