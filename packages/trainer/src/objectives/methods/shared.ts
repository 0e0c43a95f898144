/**
 * What the built-in methods share: the typed definition helper, head construction, pre-stage settings and
 * shape checks.
 */
import { assertNumber } from '../../validate';
import type {
  FeatureRead,
  MethodContext,
  MethodDefinition,
  MethodInstance,
  MethodName,
  MethodOptionsMap,
  PreStageOptions,
} from '../types';

/**
 * A built-in method's definition, typed exactly as `registerMethod(name, definition)` types a user's (the
 * registry then registers it through `registerMethod`).
 */
export function builtIn<N extends MethodName, S extends FeatureRead = never, T extends FeatureRead = never>(
  _name: N,
  definition: MethodDefinition<MethodOptionsMap[N], S, T>,
): MethodDefinition<MethodOptionsMap[N], S, T> {
  return definition;
}

/** A stateless method: no heads, in the main stage. */
export function stateless<S extends FeatureRead, T extends FeatureRead>(
  loss: MethodInstance<S, T>['loss'],
): MethodInstance<S, T> {
  return { loss };
}

/** Builds a head, prefixing its constructor's error with where it was configured. */
export function buildHead<H>(where: string, build: () => H): H {
  try {
    return build();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/**
 * A method's head, `new Head({ ...options, seed, checkValues })` with the objective's seed and value checks,
 * built by {@link buildHead} (its constructor's error prefixed with where the method was configured).
 */
export function newHead<O, H>(
  context: Pick<MethodContext<never, never>, 'where' | 'seed' | 'checkValues'>,
  Head: new (options: O) => H,
  options: Omit<O, 'seed' | 'checkValues'>,
): H {
  const { where, seed, checkValues } = context;
  return buildHead(where, () => new Head({ ...options, seed, checkValues } as O));
}

/** The sizes of a head on the student's and the teacher's pooled vectors (CC, ICD, CRD). */
export function pooledDims(context: Pick<MethodContext<'pooled', 'pooled'>, 'student' | 'teacher'>): {
  studentDim: number;
  teacherDim: number;
} {
  return { studentDim: channelsOf(context.student.pooled), teacherDim: channelsOf(context.teacher.pooled) };
}

/** The descriptions of the pre-stage options (AB, FSP, FT). */
export const PRE_STAGE_OPTIONS = {
  preStageEpochs: 'epochs of the pre-stage (RepDistiller init(); default 30; 0 skips it)',
  preStageLearningRate: 'its constant learning rate (default the main one)',
} as const satisfies Record<keyof PreStageOptions, string>;

/** `options` without the pre-stage keys, for a loss or a head. */
export function withoutPreStage<O extends PreStageOptions>(options: O): Omit<O, keyof PreStageOptions> {
  const { preStageEpochs: _epochs, preStageLearningRate: _learningRate, ...rest } = options;
  return rest;
}

/**
 * RepDistiller's `init()` settings: 30 epochs at a constant learning rate, by default the main one; FT's
 * paraphraser uses the student's registered `paraphraserLearningRate` instead (0.01 for the CIFAR ResNets and
 * WRNs, see `modelRecipe` in `@kd/models`).
 */
export function preStageSettings(
  context: Pick<MethodContext<never, never>, 'where' | 'learningRate'>,
  options: PreStageOptions,
  defaultLearningRate = context.learningRate,
): { epochs: number; learningRate: number } {
  const epochs = assertNumber(context.where, 'options.preStageEpochs', options.preStageEpochs ?? 30, {
    integer: true,
    nonNegative: true,
  });
  const learningRate = assertNumber(
    context.where,
    'options.preStageLearningRate',
    options.preStageLearningRate ?? defaultLearningRate,
    {
      nonNegative: true,
    },
  );
  return { epochs, learningRate };
}

/** The channel (last) dimension of a probed shape. */
export function channelsOf(shape: readonly number[]): number {
  return shape[shape.length - 1] as number;
}

/** `[H, W, C]` of an `[N, H, W, C]` shape (checked rank 4 by {@link assertMaps}). */
export function mapShape(shape: readonly number[]): [number, number, number] {
  return [shape[1], shape[2], shape[3]] as [number, number, number];
}

/**
 * Throws unless every shape is an `[N, H, W, C]` map (`allowVectors`: or an `[N, D]` vector), naming the
 * model and the feature: `… needs the student's stages as [N, H, W, C] maps; stages[0] is [2,10]`.
 */
export function assertMaps(
  where: string,
  who: 'student' | 'teacher',
  name: string,
  shapes: readonly (readonly number[])[],
  { allowVectors = false }: { allowVectors?: boolean } = {},
): void {
  shapes.forEach((shape, index) => {
    if (shape.length === 4 || (allowVectors && shape.length === 2)) return;
    const entry = shapes.length === 1 && !name.endsWith('s') ? name : `${name}[${index}]`;
    throw new Error(
      `${where} needs the ${who}'s ${name} as [N, H, W, C] maps${allowVectors ? ' or [N, D] vectors' : ''}; ` +
        `${entry} is [${shape.join(',')}]`,
    );
  });
}

/** Throws unless student and teacher have as many entries of a list feature. */
export function assertSameCount(
  where: string,
  name: string,
  student: readonly unknown[],
  teacher: readonly unknown[],
): void {
  if (student.length !== teacher.length) {
    throw new Error(
      `${where}: student and teacher must have the same number of ${name}: ` +
        `student ${student.length}, teacher ${teacher.length}`,
    );
  }
}
