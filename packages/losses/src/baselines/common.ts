/**
 * Helpers shared by the feature-based baselines: the one-pair-or-list input form and exponent options, plus
 * re-exports of the shared checks and tensor building blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInputPair } from '../input-pair';
import { assertFloatInput as checkFloatInput, assertNumber, assertSameBatch, type ValueCheckTiming } from '../validate';

export {
  assertFloatInput as checkFloatInput,
  assertKnownOptions,
  valueChecks,
  type ValueCheckOption,
  type ValueCheckTiming,
} from '../validate';
export { l2Normalize, stopGradient } from '../tensor-utils';

/** One tensor, or a list of tensors (one per layer) whose per-layer losses are combined. */
export type FeatureInput = tf.Tensor | readonly tf.Tensor[];

/** A checked student/teacher pair together with the argument names used in error messages. */
export interface FeaturePair {
  student: tf.Tensor;
  teacher: tf.Tensor;
  studentArg: string;
  teacherArg: string;
}

/** What a student/teacher pair of tensors must be: its ranks, the layout named in errors, what must agree. */
export interface PairSpec {
  ranks: number | number[];
  /** e.g. `[N, D]`. */
  layout: string;
  /** The whole shape, or only the batch size (the widths may differ). */
  agree: 'shape' | 'batch';
}

/**
 * Checks a student/teacher pair given as `{ studentArg: student, teacherArg: teacher }` (see
 * `checkInputPair`): both float32 tensors of one of `spec.ranks` (finite per `checks`), agreeing on
 * `spec.agree`; returns them in that order.
 */
export function checkFeaturePair(
  fn: string,
  pair: Readonly<Record<string, unknown>>,
  { ranks, layout, agree }: PairSpec,
  checks: ValueCheckTiming,
): [tf.Tensor, tf.Tensor] {
  return checkInputPair(fn, pair, (arg, value) => checkFloatInput(fn, arg, value, ranks, layout, checks), agree);
}

/**
 * Accepts either one student/teacher pair of tensors or two equally long lists, checks every tensor (rank 4
 * NHWC, float32, finite per `checks`, one batch size for all) and returns the pairs. List entries are named
 * `studentFeatures[i]` in errors.
 */
export function featurePairs(
  fn: string,
  studentArg: string,
  student: unknown,
  teacherArg: string,
  teacher: unknown,
  checks: ValueCheckTiming,
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
    const pair = { [studentArg]: student, [teacherArg]: teacher };
    const [s, t] = checkFeaturePair(fn, pair, { ranks: 4, layout, agree: 'batch' }, checks);
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
    const s = checkFloatInput(fn, sArg, value, 4, layout, checks);
    const t = checkFloatInput(fn, tArg, teachers[index], 4, layout, checks);
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

/** |x|^p, with the exact square for the common p = 2. */
export function absolutePower(x: tf.Tensor, p: number): tf.Tensor {
  if (p === 2) return tf.square(x);
  if (p === 1) return tf.abs(x);
  return tf.pow(tf.abs(x), p);
}
