/**
 * The open method registry: `registerMethod`, `listMethods`, `methodDefinition`. The built-in methods
 * (one file each under `methods/`) are registered at the end of this module through `registerMethod`.
 */
import { assertKnownOptions, closestKey } from '@kd/internal';
import { describeValue } from '../validate';
import { FEATURE_READS } from './features';
import * as builtIn from './methods/index';
import type {
  FeatureRead,
  MethodDefinition,
  MethodInfo,
  MethodName,
  MethodOptionsMap,
  ObjectiveSpec,
  ReferenceWeights,
} from './types';

/** A registered definition, its option and feature types erased (each was checked at registration). */
export type RegisteredMethod = MethodDefinition<Record<string, unknown>, FeatureRead, FeatureRead>;

const methods = new Map<string, RegisteredMethod>();
const referenceWeights: Record<string, ReferenceWeights> = {};

/**
 * The reference weights of every registered method that has them (see {@link ReferenceWeights}): the table
 * that `distillStudent`'s default objective, the README's method table and the examples read. A method
 * registered with `referenceWeights` joins it.
 */
export const REFERENCE_WEIGHTS: Readonly<Record<string, ReferenceWeights>> = referenceWeights;

const DEFINITION_KEYS = ['summary', 'reads', 'options', 'referenceWeights', 'create'] as const;
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

function assertFeatureList(value: unknown, side: 'student' | 'teacher'): FeatureRead[] {
  const fn = 'registerMethod';
  const names = Object.keys(FEATURE_READS) as FeatureRead[];
  if (!Array.isArray(value)) {
    throw new Error(
      `${fn}: definition.reads.${side} must be an array of feature names (${names.join(', ')}), ` +
        `got ${describeValue(value)}`,
    );
  }
  return value.map((entry: unknown, index) => {
    if (typeof entry !== 'string' || !(names as string[]).includes(entry)) {
      const hint = typeof entry === 'string' ? `, did you mean '${closestKey(entry, names) ?? names[0]}'?` : '';
      throw new Error(
        `${fn}: definition.reads.${side}[${index}] ${describeValue(entry)} is not a feature name${hint} ` +
          `(features: ${names.join(', ')})`,
      );
    }
    return entry as FeatureRead;
  });
}

function assertDefinition(name: string, definition: unknown): RegisteredMethod {
  const fn = 'registerMethod';
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new Error(
      `${fn}: definition of '${name}' must be an object { summary, reads, options, create }, ` +
        `got ${describeValue(definition)}`,
    );
  }
  assertKnownOptions(fn, definition, DEFINITION_KEYS, 'definition');
  const { summary, reads, options, referenceWeights: weights, create } = definition as Record<string, unknown>;
  if (typeof summary !== 'string' || summary.trim() === '' || summary.includes('\n')) {
    throw new Error(`${fn}: definition.summary must be one non-empty line, got ${describeValue(summary)}`);
  }
  if (reads === null || typeof reads !== 'object' || Array.isArray(reads)) {
    throw new Error(
      `${fn}: definition.reads must be { student: [...], teacher: [...] } (feature names), got ${describeValue(reads)}`,
    );
  }
  assertKnownOptions(fn, reads, ['student', 'teacher'], 'definition.reads');
  const readsRecord = reads as Record<string, unknown>;
  const checkedReads = {
    student: assertFeatureList(readsRecord.student, 'student'),
    teacher: assertFeatureList(readsRecord.teacher, 'teacher'),
  };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(
      `${fn}: definition.options must be an object { optionKey: 'description' }, got ${describeValue(options)}`,
    );
  }
  for (const [key, description] of Object.entries(options)) {
    if (typeof description !== 'string' || description.trim() === '') {
      throw new Error(
        `${fn}: definition.options.${key} must be a description (a non-empty string), ` +
          `got ${describeValue(description)}`,
      );
    }
  }
  if (weights !== undefined) {
    if (weights === null || typeof weights !== 'object') {
      throw new Error(
        `${fn}: definition.referenceWeights must be { gamma, alpha, beta } or undefined, got ${describeValue(weights)}`,
      );
    }
    assertKnownOptions(fn, weights, ['gamma', 'alpha', 'beta'], 'definition.referenceWeights');
    for (const key of ['gamma', 'alpha', 'beta'] as const) {
      const value = (weights as Record<string, unknown>)[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new Error(
          `${fn}: definition.referenceWeights.${key} must be a finite number >= 0, got ${describeValue(value)}`,
        );
      }
    }
  }
  if (typeof create !== 'function') {
    throw new Error(
      `${fn}: definition.create must be a function (context, options) => method instance, got ${describeValue(create)}`,
    );
  }
  return { ...(definition as RegisteredMethod), reads: checkedReads };
}

/**
 * Adds a distillation method that `distillStudent` then accepts as `{ method: name, weight, options }`. The
 * built-in methods are registered through this same function. Declare the method's options in
 * {@link MethodOptionsMap} first (declaration merging), so objectives naming it are type-checked:
 *
 * - `reads` lists the named features it reads from each model (`stem`, `stages`, `lastStage`, `pooled`,
 *   `preactivations`); `distillStudent` checks both models provide them before training and passes only those.
 * - `options` describes every option key (the keys `distillStudent` accepts; a misspelt one is rejected with
 *   the closest).
 * - `create(context, options)` builds the method for one student/teacher pair from the feature shapes and
 *   returns its `loss` (unweighted, called inside the gradient closure) and any `heads` (trained with the
 *   student, saved in checkpoints).
 *
 * Throws for a name already registered, a malformed name or an invalid definition.
 *
 * @example
 * declare module '@kd/trainer' {
 *   interface MethodOptionsMap { pooledMse: { scale?: number } }
 * }
 * registerMethod('pooledMse', {
 *   summary: "MSE between the student's and the teacher's pooled vectors (equal widths)",
 *   reads: { student: ['pooled'], teacher: ['pooled'] },
 *   options: { scale: 'multiplies the MSE (default 1)' },
 *   create: (_context, { scale = 1 }) => ({
 *     loss: ({ student, teacher }) => tf.mul(scale, tf.losses.meanSquaredError(teacher.pooled, student.pooled)),
 *   }),
 * });
 * await distillStudent({ student, teacher, data,
 *   objectives: [{ method: 'ce', weight: 1 }, { method: 'pooledMse', weight: 10 }] });
 */
export function registerMethod<N extends MethodName, S extends FeatureRead = never, T extends FeatureRead = never>(
  name: N,
  definition: MethodDefinition<MethodOptionsMap[N], S, T>,
): void {
  const fn = 'registerMethod';
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new Error(`${fn}: name must be a letter followed by letters, digits, '_' or '-', got ${describeValue(name)}`);
  }
  const existing = methods.get(name);
  if (existing !== undefined) {
    throw new Error(`${fn}: method '${name}' is already registered (${existing.summary}); pick another name`);
  }
  const checked = assertDefinition(name, definition);
  methods.set(name, checked);
  if (checked.referenceWeights !== undefined) referenceWeights[name] = { ...checked.referenceWeights };
}

/** Whether `name` is a registered method (narrows a string, e.g. a command-line flag, to {@link MethodName}). */
export function hasMethod(name: string): name is MethodName {
  return methods.has(name);
}

/** The registered method `name`; throws for an unknown name with the closest registered one and its summary. */
export function methodDefinition<N extends MethodName>(
  name: N,
): MethodDefinition<MethodOptionsMap[N], FeatureRead, FeatureRead>;
export function methodDefinition(name: string): RegisteredMethod {
  const definition = methods.get(name);
  if (definition === undefined) throw new Error(`methodDefinition: ${unknownMethodMessage(name)}`);
  return definition;
}

/** `method 'kdd' is unknown; did you mean 'kd' (Hinton KD, …)? Known methods: ce, kd, …` */
export function unknownMethodMessage(name: unknown): string {
  const names = [...methods.keys()];
  const closest = typeof name === 'string' ? closestKey(name, names) : undefined;
  const suggestion = closest === undefined ? '' : ` did you mean '${closest}' (${methods.get(closest)!.summary})?`;
  return `method ${describeValue(name)} is unknown;${suggestion} known methods: ${names.join(', ')}`;
}

/**
 * Every registered method in registration order (the built-ins first): its name, summary, the features it
 * reads, its options (key → description) and its reference weights.
 *
 * @example
 * for (const { name, summary } of listMethods()) console.log(`${name}: ${summary}`);
 */
export function listMethods(): MethodInfo[] {
  return [...methods.entries()].map(([name, definition]) => ({
    name: name as MethodName,
    summary: definition.summary,
    reads: { student: [...definition.reads.student], teacher: [...definition.reads.teacher] },
    options: { ...definition.options },
    referenceWeights: definition.referenceWeights === undefined ? undefined : { ...definition.referenceWeights },
  }));
}

/**
 * The reference objective of a method: `[{ ce, γ }, { kd, α } when α > 0, { method, β }]` (KD: `[ce 0.1, kd 0.9]`),
 * with `options` for the method's entry. Throws for a method without reference weights.
 *
 * @example
 * referenceObjectives('at'); // [{ method: 'ce', weight: 1 }, { method: 'at', weight: 1000 }]
 */
export function referenceObjectives<M extends MethodName>(method: M, options?: MethodOptionsMap[M]): ObjectiveSpec[] {
  const weights = REFERENCE_WEIGHTS[method];
  if (weights === undefined) {
    const known = methods.has(method) ? `'${method}' has no reference weights` : `unknown method '${method}'`;
    throw new Error(
      `referenceObjectives: ${known}; methods with reference weights: ${Object.keys(REFERENCE_WEIGHTS).join(', ')}`,
    );
  }
  const entry = { method, weight: weights.beta, ...(options === undefined ? {} : { options }) } as ObjectiveSpec;
  if (method === 'ce') return [{ ...entry, weight: weights.gamma }];
  if (method === 'kd')
    return [
      { method: 'ce', weight: weights.gamma },
      { ...entry, weight: weights.alpha },
    ];
  return [
    { method: 'ce', weight: weights.gamma },
    ...(weights.alpha > 0 ? [{ method: 'kd' as const, weight: weights.alpha }] : []),
    entry,
  ];
}

// The built-in methods, through the public API (in the README table's order).
registerMethod('ce', builtIn.ce);
registerMethod('kd', builtIn.kd);
registerMethod('dkd', builtIn.dkd);
registerMethod('at', builtIn.at);
registerMethod('sp', builtIn.sp);
registerMethod('rkd', builtIn.rkd);
registerMethod('pkt', builtIn.pkt);
registerMethod('nst', builtIn.nst);
registerMethod('ab', builtIn.ab);
registerMethod('fsp', builtIn.fsp);
registerMethod('fitnet', builtIn.fitnet);
registerMethod('vid', builtIn.vid);
registerMethod('vidlp', builtIn.vidlp);
registerMethod('cc', builtIn.cc);
registerMethod('crd', builtIn.crd);
registerMethod('icd', builtIn.icd);
registerMethod('mimkd', builtIn.mimkd);
registerMethod('ft', builtIn.ft);
