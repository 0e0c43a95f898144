/**
 * The model registry: `createModel(name, options)`, `listModels(glob?)`, `registerModel(name, factory, recipe?)`,
 * `modelRecipe(name)`.
 */
import { mlp } from './models/mlp';
import { mobileNetV2 } from './models/mobilenetv2';
import { cifarResNet } from './models/resnet';
import { resNet50 } from './models/resnet50';
import { shuffleNetV1 } from './models/shufflenet-v1';
import { shuffleNetV2 } from './models/shufflenet-v2';
import { vggBn, vggConfigs } from './models/vgg';
import { wideResNet } from './models/wrn';
import { assertKnownOptions, assertSeed } from '@kd/internal';
import { assertInteger } from './validate';
import { buildZooModel, type ArchitectureBuilder, type ZooModel } from './zoo-model';
import type { KdModel } from './types';

/** Names of the built-in models (RepDistiller's CIFAR zoo). */
export type BuiltInModelName =
  | 'resnet8'
  | 'resnet14'
  | 'resnet20'
  | 'resnet32'
  | 'resnet44'
  | 'resnet56'
  | 'resnet110'
  | 'resnet8x4'
  | 'resnet32x4'
  | 'resnet50'
  | 'wrn16_1'
  | 'wrn16_2'
  | 'wrn40_1'
  | 'wrn40_2'
  | 'vgg8'
  | 'vgg11'
  | 'vgg13'
  | 'vgg16'
  | 'vgg19'
  | 'mobilenetv2'
  | 'shufflev1'
  | 'shufflev2'
  | 'mlp';

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Size of the logits. */
  numClasses: number;
  /** Seed of the initial weights, an integer in [0, 2^32): the same seed gives the same weights. Default 0. */
  seed?: number;
  /** Image channels: 3 for CIFAR, 1 for (Fashion-)MNIST padded to 32×32. Default 3. */
  inputChannels?: number;
  /**
   * `mlp` only: the one input size `[height, width, channels]` it takes (a d-dimensional vector is
   * `[1, 1, d]`). Default `[32, 32, inputChannels]`; its channels must equal `inputChannels` when both are given.
   */
  inputShape?: readonly [number, number, number];
  /** `mlp` only: the width of each hidden layer, at least one layer. Default `[256, 256]`. */
  hiddenSizes?: readonly number[];
}

const createModelKeys: readonly (keyof CreateModelOptions)[] = [
  'numClasses',
  'seed',
  'inputChannels',
  'inputShape',
  'hiddenSizes',
];

/** What a registered factory receives: {@link CreateModelOptions} with defaults filled in, plus the name. */
export interface ModelFactoryOptions {
  name: string;
  numClasses: number;
  seed: number;
  inputChannels: number;
  /** As given to `createModel`, validated (positive integers, channels = inputChannels); undefined if not given. */
  inputShape?: readonly [number, number, number];
  /** As given to `createModel`, validated (at least one positive integer); undefined if not given. */
  hiddenSizes?: readonly number[];
}

/** Builds a model from resolved options. */
export type ModelFactory = (options: ModelFactoryOptions) => KdModel;

/** The builder behind each factory made by `architecture`, so a checkpoint can be matched against it. */
const architectureBuilders = new WeakMap<ModelFactory, ArchitectureBuilder>();

/** The builder of a registered convolutional architecture; undefined for other factories (`mlp`, custom). */
export function architectureBuilder(name: string): ArchitectureBuilder | undefined {
  const factory = registry.get(name);
  return factory === undefined ? undefined : architectureBuilders.get(factory);
}

/** A convolutional architecture: takes any input size, so the `mlp`-only options are rejected. */
function architecture(build: ArchitectureBuilder, minimumInputSize = 1): ModelFactory {
  const factory: ModelFactory = ({ name, numClasses, seed, inputChannels, inputShape, hiddenSizes }) => {
    for (const [arg, value] of [
      ['inputShape', inputShape],
      ['hiddenSizes', hiddenSizes],
    ] as const) {
      if (value !== undefined) {
        throw new Error(
          `createModel: options.${arg} is an option of 'mlp'; '${name}' is convolutional and takes any input size, got ${JSON.stringify(value)}`,
        );
      }
    }
    return buildZooModel({ name, numClasses, seed, inputChannels, build, minimumInputSize });
  };
  architectureBuilders.set(factory, build);
  return factory;
}

/** VGG's three valid 2×2 max pools: 8×8 is the smallest input whose last block is not empty. */
const VGG_MINIMUM_INPUT_SIZE = 8;

/** The largest weight an `mlp` may have: 2^28 float32 scalars (1 GiB). */
const maxWeightSize = 2 ** 28;

/** The zoo's `mlp`: default input 32×32×inputChannels, default hidden widths [256, 256]. */
const mlpFactory: ModelFactory = ({ name, numClasses, seed, inputChannels, inputShape, hiddenSizes }) => {
  const shape = inputShape ?? [32, 32, inputChannels];
  const widths = [shape[0] * shape[1] * shape[2], ...(hiddenSizes ?? [256, 256]), numClasses];
  widths.slice(1).forEach((outFeatures, index) => {
    const size = widths[index]! * outFeatures;
    if (size > maxWeightSize) {
      const weight = index === widths.length - 2 ? 'classifier.weight' : `layers.${index}.weight`;
      throw new Error(
        `createModel('${name}'): ${weight} would be [${widths[index]}, ${outFeatures}] = ${size} scalars, more than the ${maxWeightSize} one tensor may hold`,
      );
    }
  });
  return buildZooModel({
    name,
    numClasses,
    seed,
    inputChannels: shape[2],
    inputSize: [shape[0], shape[1]],
    build: mlp({ inputShape: shape, hiddenSizes: widths.slice(1, -1) }),
  });
};

const small: [number, number, number, number] = [16, 16, 32, 64];
const wide: [number, number, number, number] = [32, 64, 128, 256];

const builtIns: Record<BuiltInModelName, ModelFactory> = {
  resnet8: architecture(cifarResNet({ depth: 8, channels: small })),
  resnet14: architecture(cifarResNet({ depth: 14, channels: small })),
  resnet20: architecture(cifarResNet({ depth: 20, channels: small })),
  resnet32: architecture(cifarResNet({ depth: 32, channels: small })),
  resnet44: architecture(cifarResNet({ depth: 44, channels: small })),
  resnet56: architecture(cifarResNet({ depth: 56, channels: small })),
  resnet110: architecture(cifarResNet({ depth: 110, channels: small })),
  resnet8x4: architecture(cifarResNet({ depth: 8, channels: wide })),
  resnet32x4: architecture(cifarResNet({ depth: 32, channels: wide })),
  resnet50: architecture(resNet50()),
  wrn16_1: architecture(wideResNet({ depth: 16, widenFactor: 1 })),
  wrn16_2: architecture(wideResNet({ depth: 16, widenFactor: 2 })),
  wrn40_1: architecture(wideResNet({ depth: 40, widenFactor: 1 })),
  wrn40_2: architecture(wideResNet({ depth: 40, widenFactor: 2 })),
  vgg8: architecture(vggBn(vggConfigs.vgg8), VGG_MINIMUM_INPUT_SIZE),
  vgg11: architecture(vggBn(vggConfigs.vgg11), VGG_MINIMUM_INPUT_SIZE),
  vgg13: architecture(vggBn(vggConfigs.vgg13), VGG_MINIMUM_INPUT_SIZE),
  vgg16: architecture(vggBn(vggConfigs.vgg16), VGG_MINIMUM_INPUT_SIZE),
  vgg19: architecture(vggBn(vggConfigs.vgg19), VGG_MINIMUM_INPUT_SIZE),
  mobilenetv2: architecture(mobileNetV2({ expansion: 6, widthMultiplier: 0.5 })),
  shufflev1: architecture(shuffleNetV1()),
  shufflev2: architecture(shuffleNetV2()),
  mlp: mlpFactory,
};

const registry = new Map<string, ModelFactory>(Object.entries(builtIns));

/**
 * The training recipe the reference code uses for an architecture (RepDistiller's `train_teacher.py`,
 * `train_student.py` and `init()`), read by trainers for their defaults, so no trainer matches model names.
 */
export interface ModelRecipe {
  /** The SGD learning rate of the teacher and student recipes: 0.05, or 0.01 for MobileNetV2 and the ShuffleNets. */
  learningRate: number;
  /**
   * The learning rate of FT's paraphraser pre-stage (`init()`) when this model is the student: 0.01 for the
   * CIFAR ResNets (resnet8…110, resnet8x4, resnet32x4) and the WRNs, undefined (the main learning rate) for
   * the others, resnet50 included.
   */
  paraphraserLearningRate?: number;
  /**
   * The learning rate of the MCMI authors' teacher fine-tuning (half their base rate of 0.1, or of 0.01):
   * 0.05, or 0.005 for MobileNetV2 and the ShuffleNets.
   */
  mcmiLearningRate: number;
}

/** The recipe of a model registered without one (and of any name not in the registry). */
const defaultRecipe: ModelRecipe = { learningRate: 0.05, mcmiLearningRate: 0.05 };
const smallLearningRate: ModelRecipe = { learningRate: 0.01, mcmiLearningRate: 0.005 };
const cifarResNetRecipe: ModelRecipe = { learningRate: 0.05, paraphraserLearningRate: 0.01, mcmiLearningRate: 0.05 };

const recipes = new Map<string, ModelRecipe>([
  ...(
    [
      'resnet8',
      'resnet14',
      'resnet20',
      'resnet32',
      'resnet44',
      'resnet56',
      'resnet110',
      'resnet8x4',
      'resnet32x4',
    ] as const
  ).map((name) => [name, cifarResNetRecipe] as const),
  ...(['wrn16_1', 'wrn16_2', 'wrn40_1', 'wrn40_2'] as const).map((name) => [name, cifarResNetRecipe] as const),
  ...(['mobilenetv2', 'shufflev1', 'shufflev2'] as const).map((name) => [name, smallLearningRate] as const),
]);

function validateRecipe(fn: string, recipe: unknown): ModelRecipe {
  assertKnownOptions(fn, recipe, ['learningRate', 'paraphraserLearningRate', 'mcmiLearningRate'], 'recipe');
  if (recipe === undefined) return defaultRecipe;
  const { learningRate, paraphraserLearningRate, mcmiLearningRate } = recipe as Partial<ModelRecipe>;
  for (const [arg, value] of [
    ['learningRate', learningRate],
    ['paraphraserLearningRate', paraphraserLearningRate],
    ['mcmiLearningRate', mcmiLearningRate],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new Error(`${fn}: recipe.${arg} must be a positive finite number, got ${String(value)}`);
    }
  }
  return {
    learningRate: learningRate ?? defaultRecipe.learningRate,
    mcmiLearningRate: mcmiLearningRate ?? defaultRecipe.mcmiLearningRate,
    ...(paraphraserLearningRate === undefined ? {} : { paraphraserLearningRate }),
  };
}

/**
 * The training recipe of a registered model (see {@link ModelRecipe}); a name that is not registered (a model
 * built outside the registry) gets the default recipe, learning rate 0.05 and FT's pre-stage at that rate.
 *
 * @example
 * modelRecipe('mobilenetv2').learningRate; // 0.01
 * modelRecipe('resnet20').paraphraserLearningRate; // 0.01
 */
export function modelRecipe(name: string): ModelRecipe {
  if (typeof name !== 'string') throw new Error(`modelRecipe: name must be a string, got ${typeof name}`);
  return { ...(recipes.get(name) ?? defaultRecipe) };
}

/**
 * Registers a model under `name` so `createModel(name, …)` builds it, with its training recipe (default:
 * learning rate 0.05, FT's pre-stage at that rate; see {@link ModelRecipe}). Names are unique: registering a
 * taken name throws.
 *
 * @example
 * registerModel('tiny', ({ numClasses, seed, inputChannels }) => myTinyModel(numClasses, seed, inputChannels),
 *   { learningRate: 0.01 });
 */
export function registerModel(name: string, factory: ModelFactory, recipe?: Partial<ModelRecipe>): void {
  const fn = 'registerModel';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new Error(
      `${fn}: name must be a non-empty string of letters, digits, '_', '.', '-', got ${JSON.stringify(name)}`,
    );
  }
  if (typeof factory !== 'function') throw new Error(`${fn}: factory must be a function, got ${typeof factory}`);
  if (registry.has(name)) throw new Error(`${fn}: a model named '${name}' is already registered`);
  const resolved = validateRecipe(fn, recipe);
  registry.set(name, factory);
  recipes.set(name, resolved);
}

/**
 * Registered model names, sorted; with `glob`, only those matching it (`*` any run of characters, `?` one
 * character, whole-name match).
 *
 * @example
 * listModels('resnet*'); // ['resnet110', 'resnet14', …]
 */
export function listModels(glob?: string): string[] {
  const names = [...registry.keys()].sort();
  if (glob === undefined) return names;
  if (typeof glob !== 'string') throw new Error(`listModels: glob must be a string, got ${typeof glob}`);
  const pattern = new RegExp(
    `^${glob
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.+()[\]{}|]/g, '\\$&')))
      .join('')}$`,
  );
  return names.filter((name) => pattern.test(name));
}

/**
 * Creates a freshly initialised model of the zoo (or a registered one). Unknown names throw an error that
 * lists the known ones.
 *
 * @example
 * const model = createModel('resnet20', { numClasses: 100, seed: 1 });
 * const { logits, features } = model.apply(images, { training: true });
 */
export function createModel(name: BuiltInModelName, options: CreateModelOptions): ZooModel;
export function createModel(name: string, options: CreateModelOptions): KdModel;
export function createModel(name: string, options: CreateModelOptions): KdModel {
  const fn = 'createModel';
  const factory = typeof name === 'string' ? registry.get(name) : undefined;
  if (factory === undefined) {
    throw new Error(`${fn}: unknown model ${JSON.stringify(name)}; known models: ${listModels().join(', ')}`);
  }
  assertKnownOptions(fn, options, createModelKeys);
  if (options === undefined) throw new Error(`${fn}: options.numClasses is required`);
  const numClasses = assertInteger(fn, 'options.numClasses', options.numClasses, { min: 1 });
  const seed = assertSeed(fn, 'options.seed', options.seed ?? 0);
  const fnOfModel = `${fn}('${name}')`;
  const inputShape =
    options.inputShape === undefined ? undefined : assertSizes(fnOfModel, 'options.inputShape', options.inputShape, 3);
  const defaultChannels = inputShape === undefined ? 3 : inputShape[2];
  const inputChannels = assertInteger(fn, 'options.inputChannels', options.inputChannels ?? defaultChannels, {
    min: 1,
  });
  if (inputShape !== undefined && inputShape[2] !== inputChannels) {
    throw new Error(
      `${fnOfModel}: options.inputShape has ${inputShape[2]} channels but options.inputChannels is ${inputChannels}`,
    );
  }
  const hiddenSizes =
    options.hiddenSizes === undefined ? undefined : assertSizes(fnOfModel, 'options.hiddenSizes', options.hiddenSizes);
  return factory({
    name,
    numClasses,
    seed,
    inputChannels,
    ...(inputShape === undefined ? {} : { inputShape: inputShape as [number, number, number] }),
    ...(hiddenSizes === undefined ? {} : { hiddenSizes }),
  });
}

/** Throws unless `value` is a non-empty array of positive integers (of `length` entries when given). */
function assertSizes(fn: string, arg: string, value: unknown, length?: number): number[] {
  if (!Array.isArray(value) || value.length === 0 || (length !== undefined && value.length !== length)) {
    const expected =
      length === undefined ? 'a non-empty array of positive integers' : `an array of ${length} positive integers`;
    throw new Error(`${fn}: ${arg} must be ${expected}, got ${JSON.stringify(value)}`);
  }
  return value.map((size: unknown, index) => assertInteger(fn, `${arg}[${index}]`, size, { min: 1 }));
}
