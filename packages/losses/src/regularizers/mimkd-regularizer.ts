import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';
import { REGULARIZER_OPTION_KEYS, assertKnownOptions, assertSize, optionalSize } from './checks';
import { batchNormTraining, conv1x1, defaultInit, dense, layerNorm, nearIdentityInit } from './layers';
import { type DenseWeights, RegularizerBase, type RegularizerConfig, type RegularizerOptions } from './regularizer';
import type { InferredSizes } from './inferred-sizes';
import { assertSeed, SeededRandom } from '@kd/internal';

/** The mutual-information estimators of Deep InfoMax. */
export type MiEstimator = 'jsd' | 'infonce';
const ESTIMATORS: readonly MiEstimator[] = ['jsd', 'infonce'];

export interface MimkdRegularizerOptions extends RegularizerOptions {
  /** Size D_s of the student's pooled penultimate vector. Default: inferred from the first `loss()` call. */
  studentDim?: number;
  /** Channels C_t of the teacher feature map. Default: inferred from the first `loss()` call. */
  teacherChannels?: number;
  /** Size E of the space the scores are computed in. Default 128. */
  embedDim?: number;
  /** 'jsd' (Jensen–Shannon, Deep InfoMax's default) or 'infonce'. Default 'jsd'. */
  estimator?: MiEstimator;
  /** Weight of the local (student vector ↔ teacher positions) term. Default 1. */
  localWeight?: number;
  /** Weight of the global (student vector ↔ pooled teacher map) term. Default 1. */
  globalWeight?: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32). Default 0. */
  seed?: number;
}

/** Masks out the positive block of the InfoNCE softmax: exp(score − 1e9) is exactly 0 in float32. */
const MASKED = -1e9;

interface MlpEncoder {
  dense1: DenseWeights;
  gamma: tf.Variable;
  beta: tf.Variable;
  dense2: DenseWeights;
  shortcut: tf.Variable;
}

/**
 * Local and global teacher–student mutual information in the style of MIMKD (Shrivastava, Qi & Ordonez,
 * arXiv 2110.15946). **This is a reconstruction**: the paper's public text gives only its idea (maximise a
 * contrastive lower bound on the MI between local and global features of teacher and student) and no code
 * exists, so the architecture and estimators below follow Deep InfoMax (Hjelm et al., ICLR 2019, the
 * `rdevon/DIM` code), not MIMKD itself. Do not expect the paper's numbers from it.
 *
 * Encoders (all trained; BN in training mode with batch statistics):
 * - student global g_s = MLP(s): Linear → BN → ReLU → Linear, plus a linear shortcut initialised near the
 *   identity (when E ≥ D_s);
 * - teacher local l_t = LayerNorm(conv1×1 → BN → ReLU → conv1×1 + conv1×1 shortcut) at every position;
 * - teacher global g_t = MLP(mean over positions of the teacher map), built like the student's.
 *
 * Scores u_{i j ℓ} = ⟨g_s,i, l_t,j,ℓ⟩ for every pair of batch rows (i, j) and teacher position ℓ; i = j are
 * the positives, i ≠ j the negatives (in-batch, no memory bank). Estimators, as losses to minimise:
 * - JSD: mean_{i≠j,ℓ} softplus(u_{ijℓ}) + mean_{i,ℓ} softplus(−u_{iiℓ})   (the ±log 2 constants dropped);
 * - InfoNCE: mean_{i,ℓ} −log[ exp u_{iiℓ} / (exp u_{iiℓ} + Σ_{j≠i,ℓ'} exp u_{ijℓ'}) ].
 * The global term is the same with g_t in place of l_t (a single position). The loss is
 * localWeight · local + globalWeight · global. Needs a batch of at least 2. Sizes left out are inferred from
 * the first `loss()` call (or `build()`), with the same weights as if they had been given.
 *
 * @example
 * const mi = new MimkdRegularizer({ studentDim: 64, teacherChannels: 256, embedDim: 128, estimator: 'jsd', seed: 1 });
 * const loss = mi.loss(studentVector, teacherMap);
 */
export class MimkdRegularizer extends RegularizerBase {
  private readonly config: {
    studentDim?: number;
    teacherChannels?: number;
    embedDim: number;
    estimator: MiEstimator;
    localWeight: number;
    globalWeight: number;
    seed: number;
  };
  private studentGlobal!: MlpEncoder;
  private teacherGlobal!: MlpEncoder;
  private teacherLocal!: {
    kernel1: tf.Variable;
    gamma: tf.Variable;
    beta: tf.Variable;
    kernel2: tf.Variable;
    bias2: tf.Variable;
    shortcut: tf.Variable;
    normGamma: tf.Variable;
    normBeta: tf.Variable;
  };

  constructor(options: MimkdRegularizerOptions = {}) {
    const fn = 'MimkdRegularizer';
    assertKnownOptions(fn, options, [
      'studentDim',
      'teacherChannels',
      'embedDim',
      'estimator',
      'localWeight',
      'globalWeight',
      'seed',
      ...REGULARIZER_OPTION_KEYS,
    ]);
    super(fn, options);
    const studentDim = optionalSize(fn, 'studentDim', options.studentDim);
    const teacherChannels = optionalSize(fn, 'teacherChannels', options.teacherChannels);
    const embedDim = assertSize(fn, 'embedDim', options.embedDim ?? 128);
    const estimator = options.estimator ?? 'jsd';
    if (!ESTIMATORS.includes(estimator)) {
      throw new Error(
        `${fn}: estimator must be one of ${ESTIMATORS.map((name) => `'${name}'`).join(', ')}, got '${String(estimator)}'`,
      );
    }
    const localWeight = assertNumber(fn, 'localWeight', options.localWeight ?? 1, { nonNegative: true });
    const globalWeight = assertNumber(fn, 'globalWeight', options.globalWeight ?? 1, { nonNegative: true });
    const seed = assertSeed(fn, 'seed', options.seed ?? 0);
    this.config = { studentDim, teacherChannels, embedDim, estimator, localWeight, globalWeight, seed };
    if (studentDim !== undefined && teacherChannels !== undefined) {
      this.createVariables(fn, studentDim, teacherChannels);
    }
  }

  protected override createVariables(_fn: string, studentDim: number, teacherChannels: number): void {
    Object.assign(this.config, { studentDim, teacherChannels });
    const random = new SeededRandom(this.config.seed);
    const e = this.config.embedDim;
    this.studentGlobal = this.mlp(random, 'global/student', studentDim, e);
    this.teacherGlobal = this.mlp(random, 'global/teacher', teacherChannels, e);
    const c = teacherChannels;
    this.teacherLocal = {
      kernel1: this.addVariable('local/teacher/conv1/kernel', defaultInit(random, c * e, c), [c, e]),
      gamma: this.addVariable('local/teacher/batchNorm/gamma', new Float32Array(e).fill(1), [e]),
      beta: this.addVariable('local/teacher/batchNorm/beta', new Float32Array(e), [e]),
      kernel2: this.addVariable('local/teacher/conv2/kernel', defaultInit(random, e * e, e), [e, e]),
      bias2: this.addVariable('local/teacher/conv2/bias', defaultInit(random, e, e), [e]),
      shortcut: this.addVariable('local/teacher/shortcut/kernel', shortcutInit(random, c, e), [c, e]),
      normGamma: this.addVariable('local/teacher/layerNorm/gamma', new Float32Array(e).fill(1), [e]),
      normBeta: this.addVariable('local/teacher/layerNorm/beta', new Float32Array(e), [e]),
    };
    this.markBuilt();
  }

  protected override inferredSizes(): InferredSizes {
    const { studentDim, teacherChannels } = this.config;
    return {
      student: { kind: 'vector', layout: '[N, D_s]', size: studentDim, saved: ['global/student/dense1/kernel', 0] },
      teacher: {
        kind: 'channels',
        layout: '[N, H, W, C_t]',
        size: teacherChannels,
        saved: ['local/teacher/conv1/kernel', 0],
      },
    };
  }

  getConfig(): RegularizerConfig {
    return this.configWith(this.config);
  }

  private mlp(random: SeededRandom, prefix: string, inputs: number, units: number): MlpEncoder {
    return {
      dense1: this.addDense(random, `${prefix}/dense1`, inputs, units),
      gamma: this.addVariable(`${prefix}/batchNorm/gamma`, new Float32Array(units).fill(1), [units]),
      beta: this.addVariable(`${prefix}/batchNorm/beta`, new Float32Array(units), [units]),
      dense2: this.addDense(random, `${prefix}/dense2`, units, units),
      shortcut: this.addVariable(`${prefix}/shortcut/kernel`, shortcutInit(random, inputs, units), [inputs, units]),
    };
  }

  /** The student's global code g_s `[N, E]`. */
  encodeStudent(studentVector: tf.Tensor2D): tf.Tensor2D {
    this.assertBuilt('encodeStudent');
    return tf.tidy(() => applyMlp(this.studentGlobal, studentVector));
  }

  /** The teacher's local codes l_t `[N, H, W, E]`. */
  encodeTeacherLocal(teacherFeature: tf.Tensor4D): tf.Tensor4D {
    this.assertBuilt('encodeTeacherLocal');
    const p = this.teacherLocal;
    return tf.tidy(() => {
      const hidden = tf.relu(batchNormTraining(conv1x1(teacherFeature, p.kernel1), p.gamma, p.beta));
      const block = tf.add(conv1x1(hidden, p.kernel2, p.bias2), conv1x1(teacherFeature, p.shortcut));
      return layerNorm(block, p.normGamma, p.normBeta) as tf.Tensor4D;
    });
  }

  /** The teacher's global code g_t `[N, E]` from the spatial mean of its map. */
  encodeTeacherGlobal(teacherFeature: tf.Tensor4D): tf.Tensor2D {
    this.assertBuilt('encodeTeacherGlobal');
    return tf.tidy(() => applyMlp(this.teacherGlobal, tf.mean(teacherFeature, [1, 2]) as tf.Tensor2D));
  }

  /**
   * @param studentVector float32 `[N, D_s]`, the student's pooled penultimate features.
   * @param teacherFeature float32 `[N, H, W, C_t]` (keep the teacher out of the gradient).
   */
  loss(studentVector: tf.Tensor, teacherFeature: tf.Tensor): tf.Scalar {
    const fn = 'MimkdRegularizer.loss';
    this.assertUsable('loss');
    const [s, t] = this.checkInputs<tf.Tensor2D, tf.Tensor4D>(
      fn,
      'studentVector',
      studentVector,
      'teacherFeature',
      teacherFeature,
    );
    if (s.shape[0] < 2)
      throw new Error(
        `${fn}: studentVector needs a batch of at least 2 (the other rows are the negatives), got ${s.shape[0]}`,
      );
    this.beginLoss(fn, s, t);
    const { localWeight, globalWeight, embedDim } = this.config;
    return tf.tidy(() => {
      const [n, h, w] = t.shape;
      const student = this.encodeStudent(s);
      const local = tf.reshape(this.encodeTeacherLocal(t), [n, h * w, embedDim]) as tf.Tensor3D;
      const global = tf.reshape(this.encodeTeacherGlobal(t), [n, 1, embedDim]) as tf.Tensor3D;
      return tf.add(
        tf.mul(localWeight, this.estimate(student, local)),
        tf.mul(globalWeight, this.estimate(student, global)),
      ) as tf.Scalar;
    });
  }

  /** The estimator's loss for global codes g `[N, E]` against codes l `[N, L, E]` at L positions. */
  private estimate(global: tf.Tensor2D, codes: tf.Tensor3D): tf.Scalar {
    const [n, positions, e] = codes.shape;
    // u[i, j, ℓ] = ⟨g_i, l_{j,ℓ}⟩
    const scores = tf.reshape(tf.matMul(global, tf.reshape(codes, [n * positions, e]), false, true), [n, n, positions]);
    const positiveMask = tf.reshape(tf.eye(n), [n, n, 1]);
    const negativeMask = tf.sub(1, positiveMask);
    if (this.config.estimator === 'jsd') {
      const negativeTerm = tf.div(tf.sum(tf.mul(tf.softplus(scores), negativeMask)), n * (n - 1) * positions);
      const positiveTerm = tf.div(tf.sum(tf.mul(tf.softplus(tf.neg(scores)), positiveMask)), n * positions);
      return tf.add(negativeTerm, positiveTerm) as tf.Scalar;
    }
    // −log softmax of the positive among {u_iiℓ} ∪ {u_ijℓ' : j ≠ i} = softplus(logsumexp(negatives_i) − u_iiℓ)
    const positives = tf.sum(tf.mul(scores, positiveMask), 1); // [N, L]
    const negativeLogSumExp = tf.logSumExp(tf.add(scores, tf.mul(positiveMask, MASKED)), [1, 2], true); // [N, 1, 1]
    return tf.mean(tf.softplus(tf.sub(tf.reshape(negativeLogSumExp, [n, 1]), positives))) as tf.Scalar;
  }
}

function shortcutInit(random: SeededRandom, inputs: number, units: number): Float32Array {
  return units >= inputs ? nearIdentityInit(random, inputs, units) : defaultInit(random, inputs * units, inputs);
}

function applyMlp(encoder: MlpEncoder, x: tf.Tensor2D): tf.Tensor2D {
  const { dense1, dense2 } = encoder;
  const hidden = tf.relu(batchNormTraining(dense(x, dense1.kernel, dense1.bias), encoder.gamma, encoder.beta));
  return tf.add(dense(hidden, dense2.kernel, dense2.bias), dense(x, encoder.shortcut));
}
