/**
 * The reference's spatial-size rule for feature-map losses: when a student and a teacher map differ in
 * height/width, the larger map is adaptive-average-pooled down to the smaller one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertRank } from './validate';

/**
 * Average-pools the larger of two NHWC maps down to the other's height and width, the reference's
 * `adaptive_avg_pool2d` for sizes that divide evenly (every pair in the CIFAR zoo). Returns new tensors
 * (or the inputs themselves when the sizes already match).
 *
 * @example
 * const [s, t] = matchSpatialSize({ fn: 'atLoss', student: s32x32, teacher: t16x16 }); // s is now 16×16
 */
export function matchSpatialSize({
  fn = 'matchSpatialSize',
  student,
  teacher,
}: {
  fn?: string;
  student: tf.Tensor;
  teacher: tf.Tensor;
}): [tf.Tensor4D, tf.Tensor4D] {
  const s = assertRank(fn, 'studentFeature', student, 4, '[N, H, W, C]') as tf.Tensor4D;
  const t = assertRank(fn, 'teacherFeature', teacher, 4, '[N, H, W, C]') as tf.Tensor4D;
  const [, sh, sw] = s.shape;
  const [, th, tw] = t.shape;
  if (sh === th && sw === tw) return [s, t];
  const studentLarger = sh >= th && sw >= tw;
  const teacherLarger = th >= sh && tw >= sw;
  if (!studentLarger && !teacherLarger) {
    throw new Error(
      `${fn}: cannot match spatial sizes ${sh}x${sw} (student) and ${th}x${tw} (teacher): neither is larger in both dimensions`,
    );
  }
  const [large, small] = studentLarger ? [s, t] : [t, s];
  const [, lh, lw] = large.shape;
  const [, smallH, smallW] = small.shape;
  if (lh % smallH !== 0 || lw % smallW !== 0) {
    throw new Error(`${fn}: spatial sizes ${lh}x${lw} and ${smallH}x${smallW} do not divide evenly`);
  }
  const pooled = tf.avgPool(large, [lh / smallH, lw / smallW], [lh / smallH, lw / smallW], 'valid');
  return studentLarger ? [pooled, t] : [s, pooled];
}
