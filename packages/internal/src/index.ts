/**
 * Private helpers shared by the published @kd packages. Each package bundles what it uses (tsup
 * `noExternal`), so nothing here is a runtime dependency and nothing here may appear in a public type.
 * Node-only helpers (atomic file writes) live in `@kd/internal/node`.
 */
export { assertKnownOptions, closestKey, editDistance } from './options';
export { MAX_ELEMENTS, assertAllocatable, formatBytes } from './sizes';
export { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from './kernelNames';
export {
  SEED_LIMIT,
  assertBoolean,
  assertInteger,
  assertNumber,
  assertObject,
  assertOneOf,
  assertSeed,
  describeValue,
} from './validate';
export type { NumberConstraints } from './validate';
export { crc32 } from './crc32';
export { SeededRandom, assertRandomState, deriveSeed, hashString, shuffledRange } from './random';
export type { RandomState } from './random';
export { assertGradientsRegistered } from './gradients';
export { assertFloat, assertRank, assertTensor, describeShape } from './tensors';
