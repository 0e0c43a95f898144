/**
 * Eigen-CAM (Muhammad & Yeasin 2020): the projection of a layer's activations onto their first principal
 * direction. Class-agnostic and gradient-free, as used for the MCMI paper's teacher comparisons.
 */
import { assertKnownOptions } from '@kd/internal';
import * as tf from '@tensorflow/tfjs-core';
import { leadingEigenvector, type PowerIterationOptions } from './power-iteration';
import { assertBoolean, assertFloat, assertNonEmpty, assertNumber, assertRank } from './validate';

export interface EigenCamOptions extends PowerIterationOptions {
  /**
   * Flip the map when |min| > |max| before the ReLU (Seg-Eigen-CAM). The principal direction is defined only up
   * to sign; without this the ReLU may zero out the whole salient region. Default true.
   */
  signCorrection?: boolean;
}

/**
 * Below this fraction of the activations' energy Σ M² the centred activations are float32 round-off of the
 * channel means (a constant map): they are treated as rank 0 and give an all-zero map instead of amplified noise.
 */
const RANK_ZERO_RELATIVE_EIGENVALUE = 1e-10;

/** The reference's (pytorch-grad-cam `scale_cam_image`) min–max epsilon. */
const SCALE_EPSILON = 1e-7;

/**
 * Post-processing shared by Eigen-CAM and Grad-CAM, in place: optional sign flip (when |min| > |max|), ReLU,
 * then (cam − min) / (max − min + 1e-7), so the map lies in [0, 1). NaN becomes 0.
 */
export function normalizeCam(cam: Float32Array | Float64Array, { signCorrection }: { signCorrection: boolean }): void {
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < cam.length; index++) {
    const value = cam[index] as number;
    if (Number.isNaN(value)) cam[index] = 0;
    min = Math.min(min, cam[index] as number);
    max = Math.max(max, cam[index] as number);
  }
  const sign = signCorrection && Math.abs(min) > Math.abs(max) ? -1 : 1;
  let reluMin = Infinity;
  let reluMax = -Infinity;
  for (let index = 0; index < cam.length; index++) {
    const value = Math.max(sign * (cam[index] as number), 0); // ReLU after the sign fix
    cam[index] = value;
    reluMin = Math.min(reluMin, value);
    reluMax = Math.max(reluMax, value);
  }
  const range = reluMax - reluMin + SCALE_EPSILON;
  for (let index = 0; index < cam.length; index++) cam[index] = ((cam[index] as number) - reluMin) / range;
}

/**
 * Eigen-CAM of NHWC activations. Per image, with M the `[H·W, C]` activations (NaN → 0):
 *
 *   M̃ = M − 1·mean_rows(M)          (centre each channel over the positions)
 *   v₁ = leading eigenvector of M̃ᵀM̃ (first right singular vector of M̃; power iteration)
 *   cam = M̃·v₁                      reshaped to [H, W]
 *   cam ← −cam if |min| > |max|      (signCorrection), then ReLU, then (cam − min)/(max − min + 1e-7)
 *
 * When H·W < C the smaller H·W × H·W matrix M̃M̃ᵀ is used instead: its leading eigenpair (λ₁, u₁) gives
 * M̃v₁ = √λ₁·u₁. A constant (rank-0) input gives an all-zero map. The result is a new tensor the caller owns.
 *
 * @param activations `[H, W, C]` or `[N, H, W, C]` float32 (e.g. `model.apply(x).features[k]`); ±Infinity throws.
 * @returns `[H, W]` or `[N, H, W]` maps in [0, 1).
 * @example
 * const { features } = model.apply(images, { training: false });
 * const maps = eigenCam(features[features.length - 2]); // last conv stage, [N, H, W]
 */
export function eigenCam(activations: tf.Tensor3D, options?: EigenCamOptions): tf.Tensor2D;
export function eigenCam(activations: tf.Tensor4D, options?: EigenCamOptions): tf.Tensor3D;
export function eigenCam(activations: tf.Tensor, options?: EigenCamOptions): tf.Tensor;
export function eigenCam(activations: tf.Tensor, options: EigenCamOptions = {}): tf.Tensor {
  const fn = 'eigenCam';
  assertKnownOptions(fn, options, ['tolerance', 'maxIterations', 'signCorrection']);
  const input = assertRank(fn, 'activations', activations, [3, 4], '[H, W, C] or [N, H, W, C]');
  assertFloat(fn, 'activations', input);
  assertNonEmpty(fn, 'activations', input);
  const { signCorrection = true, tolerance = 1e-6, maxIterations = 10_000 } = options;
  assertBoolean(fn, 'signCorrection', signCorrection);
  assertNumber(fn, 'tolerance', tolerance, { positive: true });
  assertNumber(fn, 'maxIterations', maxIterations, { integer: true, positive: true });

  const single = input.rank === 3;
  const [batch, height, width, channels] = (single ? [1, ...input.shape] : input.shape) as [
    number,
    number,
    number,
    number,
  ];
  const positions = height * width;
  const onChannels = channels <= positions; // power-iterate on the smaller Gram matrix
  const size = onChannels ? channels : positions;

  const [centred, gram, energy, allFinite] = tf.tidy(() => {
    const matrix = tf.reshape(input, [batch, positions, channels]);
    const clean = tf.where(tf.isNaN(matrix), tf.zerosLike(matrix), matrix);
    const centredMatrix = tf.sub(clean, tf.mean(clean, 1, true));
    return [
      centredMatrix,
      onChannels
        ? tf.matMul(centredMatrix, centredMatrix, true, false)
        : tf.matMul(centredMatrix, centredMatrix, false, true),
      tf.sum(tf.square(clean), [1, 2]),
      tf.all(tf.isFinite(clean)),
    ] as const;
  });
  try {
    if (allFinite.dataSync()[0] !== 1) throw new Error(`${fn}: activations contains ±Infinity`);
    const gramValues = gram.dataSync();
    const energyValues = energy.dataSync();
    const maps = new Float32Array(batch * positions);
    const directions = onChannels ? new Float32Array(batch * channels) : undefined;
    const eigenvalues = new Float64Array(batch);
    for (let sample = 0; sample < batch; sample++) {
      const block = gramValues.subarray(sample * size * size, (sample + 1) * size * size);
      let result: ReturnType<typeof leadingEigenvector>;
      try {
        result = leadingEigenvector(block, size, { tolerance, maxIterations });
      } catch (error) {
        throw new Error(`${fn}: image ${sample}: ${(error as Error).message}`);
      }
      const rankZero = !(result.eigenvalue > RANK_ZERO_RELATIVE_EIGENVALUE * (energyValues[sample] as number));
      eigenvalues[sample] = rankZero ? 0 : result.eigenvalue;
      if (rankZero) continue;
      if (directions) directions.set(result.vector, sample * channels);
      else {
        const scale = Math.sqrt(result.eigenvalue); // M̃v₁ = √λ₁·u₁
        for (let position = 0; position < positions; position++) {
          maps[sample * positions + position] = scale * (result.vector[position] as number);
        }
      }
    }
    if (directions) {
      const projected = tf.tidy(() => tf.matMul(centred, tf.tensor3d(directions, [batch, channels, 1]))); // M̃·v₁
      maps.set(projected.dataSync());
      projected.dispose();
    }
    for (let sample = 0; sample < batch; sample++) {
      const map = maps.subarray(sample * positions, (sample + 1) * positions);
      if (eigenvalues[sample] === 0) map.fill(0);
      else normalizeCam(map, { signCorrection });
    }
    return single ? tf.tensor2d(maps, [height, width]) : tf.tensor3d(maps, [batch, height, width]);
  } finally {
    tf.dispose([centred, gram, energy, allFinite]);
  }
}
