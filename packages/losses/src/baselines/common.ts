/**
 * Small helpers shared by the feature-based baselines: input checks that combine the shared validators,
 * the one-pair-or-list input form, PyTorch's `F.normalize` and a gradient stop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFiniteValues, assertFloat, assertNonEmptyBatch, assertNumber, assertRank, assertSameBatch } from '../validate';

/** One tensor, or a list of tensors (one per layer) whose per-layer losses are combined. */
export type FeatureInput = tf.Tensor | readonly tf.Tensor[];

/**
 * Checks one float input: a tensor of an allowed rank, float32, a non-empty batch and (when value checks are
 * on) no NaN or ±Infinity.
 */
export function checkFloatInput(fn: string, arg: string, value: unknown, ranks: number | number[], layout: string): tf.Tensor {
  const tensor = assertRank(fn, arg, value, ranks, layout);
  assertFloat(fn, arg, tensor);
  assertNonEmptyBatch(fn, arg, tensor);
  assertFiniteValues(fn, arg, tensor);
  return tensor;
}

/** A checked student/teacher pair together with the argument names used in error messages. */
export interface FeaturePair {
  student: tf.Tensor;
  teacher: tf.Tensor;
  studentArg: string;
  teacherArg: string;
}

/**
 * Accepts either one student/teacher pair of tensors or two equally long lists, checks every tensor (rank 4
 * NHWC, float32, finite, one batch size for all) and returns the pairs. List entries are named
 * `studentFeatures[i]` in errors.
 */
export function featurePairs(
  fn: string,
  studentArg: string,
  student: unknown,
  teacherArg: string,
  teacher: unknown,
): FeaturePair[] {
  const studentIsList = Array.isArray(student);
  const teacherIsList = Array.isArray(teacher);
  if (studentIsList !== teacherIsList) {
    throw new Error(
      `${fn}: ${studentArg} and ${teacherArg} must both be tensors or both be arrays of tensors, got ` +
        `${studentIsList ? 'an array' : 'a non-array'} and ${teacherIsList ? 'an array' : 'a non-array'}`,
    );
  }
  const layout = '[N, H, W, C]';
  if (!studentIsList) {
    const s = checkFloatInput(fn, studentArg, student, 4, layout);
    const t = checkFloatInput(fn, teacherArg, teacher, 4, layout);
    assertSameBatch(fn, studentArg, s, teacherArg, t);
    return [{ student: s, teacher: t, studentArg, teacherArg }];
  }
  const students = student as readonly unknown[];
  const teachers = teacher as readonly unknown[];
  const studentsName = `${studentArg}s`;
  const teachersName = `${teacherArg}s`;
  if (students.length === 0) throw new Error(`${fn}: ${studentsName} is an empty array`);
  if (students.length !== teachers.length) {
    throw new Error(`${fn}: ${studentsName} has ${students.length} maps but ${teachersName} has ${teachers.length}`);
  }
  const pairs = students.map((value, index) => {
    const sArg = `${studentsName}[${index}]`;
    const tArg = `${teachersName}[${index}]`;
    const s = checkFloatInput(fn, sArg, value, 4, layout);
    const t = checkFloatInput(fn, tArg, teachers[index], 4, layout);
    return { student: s, teacher: t, studentArg: sArg, teacherArg: tArg };
  });
  const first = pairs[0] as FeaturePair;
  for (const pair of pairs) {
    assertSameBatch(fn, first.studentArg, first.student, pair.studentArg, pair.student);
    assertSameBatch(fn, first.studentArg, first.student, pair.teacherArg, pair.teacher);
  }
  return pairs;
}

/** Reads an exponent option: a finite number >= 1 (smaller exponents have an infinite gradient at 0). */
export function exponentOption(fn: string, arg: string, value: unknown): number {
  return assertNumber(fn, arg, value, { min: 1 });
}

/**
 * PyTorch's `F.normalize(x, dim=axis)`: x / max(‖x‖₂, 1e-12). The maximum is taken on the squared norm
 * (max(Σx², 1e-24)) so a zero vector gets a zero gradient instead of 0·∞ = NaN through the square root.
 */
export function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis, true), 1e-24))));
}

/** |x|^p, with the exact square for the common p = 2. */
export function absolutePower(x: tf.Tensor, p: number): tf.Tensor {
  if (p === 2) return tf.square(x);
  if (p === 1) return tf.abs(x);
  return tf.pow(tf.abs(x), p);
}

/**
 * The identity whose gradient is zero: PyTorch's `.detach()` / `torch.no_grad()` for the reference's teacher
 * terms (tfjs has no stopGradient op, tensorflow/tfjs#7438).
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const detached = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return detached(x) as T;
}
