/**
 * Flow of solution procedure (FSP, Yim et al., CVPR 2017), as RepDistiller's `FSP.py` computes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameBatch } from '../validate';
import {
  assertKnownOptions,
  checkFloatInput,
  valueChecks,
  type ValueCheckOption,
  type ValueCheckTiming,
} from './common';

/**
 * FSP loss: match the "flow" matrices between consecutive feature maps of student and teacher.
 *
 * For consecutive maps f_i [N,H,W,C_i] and f_{i+1} (the larger of the two average-pooled to the smaller's
 * size), the FSP matrix is the H·W-average of outer products:
 *
 *   G_i[n, a, b] = (1/HW) Σ_{h,w} f_i[n,h,w,a] · f_{i+1}[n,h,w,b]      (C_i × C_{i+1})
 *   L = Σ_{i=0}^{n−2} mean over n, a, b of (G^s_i − G^t_i)²
 *
 * Each list holds n ≥ 2 maps (RepDistiller: `feat[:-1]`, the stem and every stage output). The student's and
 * the teacher's map i must have the same channel count (so e.g. wrn40-2 → wrn40-1 is not applicable);
 * student and teacher spatial sizes may differ.
 *
 * Reference use: two stages; a 30-epoch initialisation on this loss, then cross-entropy only (β = 50 applies to
 * the initialisation).
 *
 * @param options `checkValues` (see {@link ValueCheckOption}).
 *
 * @example
 * const loss = fspLoss([sStem, s1, s2, s3], [tStem, t1, t2, t3]);
 */
export function fspLoss(
  studentFeatures: readonly tf.Tensor[],
  teacherFeatures: readonly tf.Tensor[],
  options: ValueCheckOption = {},
): tf.Scalar {
  const fn = 'fspLoss';
  assertKnownOptions(fn, options, ['checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const students = featureList(fn, 'studentFeatures', studentFeatures, checks);
  const teachers = featureList(fn, 'teacherFeatures', teacherFeatures, checks);
  if (students.length !== teachers.length) {
    throw new Error(`${fn}: studentFeatures has ${students.length} maps but teacherFeatures has ${teachers.length}`);
  }
  const first = students[0] as tf.Tensor4D;
  students.forEach((s, index) => {
    const t = teachers[index] as tf.Tensor4D;
    assertSameBatch(fn, 'studentFeatures[0]', first, `studentFeatures[${index}]`, s);
    assertSameBatch(fn, 'studentFeatures[0]', first, `teacherFeatures[${index}]`, t);
    if (s.shape[3] !== t.shape[3]) {
      throw new Error(
        `${fn}: studentFeatures[${index}] has ${s.shape[3]} channels but teacherFeatures[${index}] has ${t.shape[3]}; ` +
          'FSP needs equal channel counts at every layer (why pairs like wrn40-2 → wrn40-1 are not applicable)',
      );
    }
  });
  return tf.tidy(() => {
    const studentMatrices = fspMatrices(fn, 'studentFeatures', students);
    const teacherMatrices = fspMatrices(fn, 'teacherFeatures', teachers);
    const perPair = studentMatrices.map((g, index) =>
      tf.mean(tf.squaredDifference(g, teacherMatrices[index] as tf.Tensor3D)),
    );
    return tf.addN(perPair) as tf.Scalar;
  });
}

function featureList(fn: string, arg: string, value: unknown, checks: ValueCheckTiming): tf.Tensor4D[] {
  if (!Array.isArray(value)) throw new Error(`${fn}: ${arg} must be an array of [N, H, W, C] tensors`);
  if (value.length < 2)
    throw new Error(`${fn}: ${arg} needs at least 2 maps (FSP relates consecutive maps), got ${value.length}`);
  return value.map(
    (map: unknown, index) => checkFloatInput(fn, `${arg}[${index}]`, map, 4, '[N, H, W, C]', checks) as tf.Tensor4D,
  );
}

/** G_i = (1/HW) f_iᵀ f_{i+1} per sample, after pooling the larger of the two maps. */
function fspMatrices(fn: string, arg: string, maps: tf.Tensor4D[]): tf.Tensor3D[] {
  const matrices: tf.Tensor3D[] = [];
  for (let index = 0; index + 1 < maps.length; index++) {
    const [lower, upper] = poolToCommonSize(fn, arg, index, maps[index] as tf.Tensor4D, maps[index + 1] as tf.Tensor4D);
    const [batch, height, width, lowerChannels] = lower.shape;
    const positions = height * width;
    const lowerFlat = tf.reshape(lower, [batch, positions, lowerChannels]) as tf.Tensor3D;
    const upperFlat = tf.reshape(upper, [batch, positions, upper.shape[3]]) as tf.Tensor3D;
    matrices.push(tf.div(tf.matMul(lowerFlat, upperFlat, true, false), positions) as tf.Tensor3D);
  }
  return matrices;
}

/** Average-pools the larger of two consecutive maps of one network to the smaller's height and width. */
function poolToCommonSize(
  fn: string,
  arg: string,
  index: number,
  lower: tf.Tensor4D,
  upper: tf.Tensor4D,
): [tf.Tensor4D, tf.Tensor4D] {
  const [, lh, lw] = lower.shape;
  const [, uh, uw] = upper.shape;
  if (lh === uh && lw === uw) return [lower, upper];
  const lowerLarger = lh >= uh && lw >= uw;
  const [large, small] = lowerLarger ? [lower, upper] : [upper, lower];
  const [, bigH, bigW] = large.shape;
  const [, smallH, smallW] = small.shape;
  if (!(lowerLarger || (uh >= lh && uw >= lw)) || bigH % smallH !== 0 || bigW % smallW !== 0) {
    throw new Error(
      `${fn}: ${arg}[${index}] (${lh}x${lw}) and ${arg}[${index + 1}] (${uh}x${uw}): the larger size must be a multiple of the smaller`,
    );
  }
  const window: [number, number] = [bigH / smallH, bigW / smallW];
  const pooled = tf.avgPool(large, window, window, 'valid');
  return lowerLarger ? [pooled, upper] : [lower, pooled];
}
