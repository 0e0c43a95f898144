/**
 * Type tests of the method registry, checked by `tsc` in `pnpm typecheck` (this file is in the trainer's
 * tsconfig): every `@ts-expect-error` line must fail to compile, or tsc reports the directive as unused. The
 * registrations and calls live in functions that never run; vitest only runs the `it` below.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KdModel } from '@kd/models';
import type { Dataset } from '@kd/data';
import {
  distillStudent,
  referenceObjectives,
  registerMethod,
  type MethodName,
  type MethodOptionsMap,
  type ObjectiveSpec,
} from '@kd/trainer';
import { describe, expectTypeOf, it } from 'vitest';

declare module '@kd/trainer' {
  interface MethodOptionsMap {
    typedUserMethod: { gain?: number; mode?: 'sum' | 'mean' };
  }
}

declare const student: KdModel;
declare const teacher: KdModel;
declare const train: Dataset;

export function misspeltAndUnknown(): ObjectiveSpec[] {
  return [
    // @ts-expect-error: a misspelt option of a built-in method does not compile
    { method: 'kd', weight: 0.9, options: { temprature: 4 } },
    // @ts-expect-error: an option of the wrong type
    { method: 'kd', weight: 0.9, options: { temperature: '4' } },
    // @ts-expect-error: an unknown method name
    { method: 'kdd', weight: 1 },
    // @ts-expect-error: a method without options takes none
    { method: 'ce', weight: 1, options: { temperature: 4 } },
    // @ts-expect-error: another method's option
    { method: 'crd', weight: 0.8, options: { hintLayer: 2 } },
    { method: 'kd', weight: 0.9, options: { temperature: 4 } },
    { method: 'crd', weight: 0.8, options: { embedDim: 64, numNegatives: 4096 } },
    { method: 'mimkd', weight: 1, options: { estimator: 'infonce' } },
    // @ts-expect-error: estimator is 'jsd' | 'infonce'
    { method: 'mimkd', weight: 1, options: { estimator: 'mine' } },
  ];
}

export async function userMethodInDistillStudent(): Promise<void> {
  await distillStudent({
    student,
    teacher,
    data: { train },
    objectives: [
      { method: 'ce', weight: 1 },
      { method: 'typedUserMethod', weight: 2, options: { gain: 3, mode: 'sum' } },
    ],
  });
  await distillStudent({
    student,
    teacher,
    data: { train },
    // @ts-expect-error: a misspelt option of a user method does not compile either
    objectives: [{ method: 'typedUserMethod', weight: 2, options: { gian: 3 } }],
  });
  await distillStudent({
    student,
    teacher,
    data: { train },
    // @ts-expect-error: mode is 'sum' | 'mean'
    objectives: [{ method: 'typedUserMethod', weight: 2, options: { mode: 'max' } }],
  });
}

export function registration(): void {
  registerMethod('typedUserMethod', {
    summary: 'a typed user method',
    reads: { student: ['pooled', 'stages'], teacher: ['lastStage'] },
    options: { gain: 'multiplies the term', mode: "'sum' or 'mean'" },
    create(context, options) {
      expectTypeOf(options).toEqualTypeOf<{ gain?: number; mode?: 'sum' | 'mean' }>();
      expectTypeOf(context.student.pooled).toEqualTypeOf<number[]>();
      expectTypeOf(context.student.stages).toEqualTypeOf<number[][]>();
      expectTypeOf(context.teacher.lastStage).toEqualTypeOf<number[]>();
      // @ts-expect-error: only the declared features are there
      void context.teacher.pooled;
      return {
        loss: ({ student, teacher }) => {
          expectTypeOf(student.pooled).toEqualTypeOf<tf.Tensor2D>();
          expectTypeOf(student.stages).toEqualTypeOf<tf.Tensor[]>();
          expectTypeOf(teacher.lastStage).toEqualTypeOf<tf.Tensor>();
          expectTypeOf(teacher.logits).toEqualTypeOf<tf.Tensor2D>();
          // @ts-expect-error: the teacher's stem was not declared in reads
          return teacher.stem;
        },
      };
    },
  });
  registerMethod('typedUserMethod', {
    summary: 'options must describe every key',
    reads: { student: [], teacher: [] },
    // @ts-expect-error: 'mode' has no description
    options: { gain: 'multiplies the term' },
    create: () => ({ loss: () => undefined as unknown as tf.Scalar }),
  });
  registerMethod('typedUserMethod', {
    summary: 'and no other key',
    reads: { student: [], teacher: [] },
    // @ts-expect-error: 'gian' is not an option
    options: { gain: 'multiplies the term', mode: 'how', gian: 'typo' },
    create: () => ({ loss: () => undefined as unknown as tf.Scalar }),
  });
  registerMethod('typedUserMethod', {
    summary: 'features are names',
    // @ts-expect-error: 'pool' is not a feature
    reads: { student: ['pool'], teacher: [] },
    options: { gain: 'g', mode: 'm' },
    create: () => ({ loss: () => undefined as unknown as tf.Scalar }),
  });
  // @ts-expect-error: a name must be declared in MethodOptionsMap first
  registerMethod('undeclaredMethod', {
    summary: 's',
    reads: { student: [], teacher: [] },
    options: {},
    create: () => ({ loss: () => undefined as unknown as tf.Scalar }),
  });
}

describe('method registry types', () => {
  it('infer options from the method name and accept declared user methods', () => {
    expectTypeOf<Extract<ObjectiveSpec, { method: 'kd' }>['options']>().toEqualTypeOf<
      { temperature?: number } | undefined
    >();
    expectTypeOf<Extract<ObjectiveSpec, { method: 'typedUserMethod' }>['options']>().toEqualTypeOf<
      MethodOptionsMap['typedUserMethod'] | undefined
    >();
    expectTypeOf<'kd' | 'crd' | 'typedUserMethod'>().toMatchTypeOf<MethodName>();
    expectTypeOf<'kdd'>().not.toMatchTypeOf<MethodName>();
    expectTypeOf(referenceObjectives).parameter(0).toEqualTypeOf<MethodName>();
    expectTypeOf(distillStudent).parameter(0).toHaveProperty('objectives').toEqualTypeOf<ObjectiveSpec[] | undefined>();
  });
});
