/**
 * Private helpers shared by the published @kd packages. Each package bundles what it uses (tsup
 * `noExternal`), so nothing here is a runtime dependency and nothing here may appear in a public type.
 */
export { assertKnownOptions, closestKey, editDistance } from './options';
export { MAX_ELEMENTS, assertAllocatable, formatBytes } from './sizes';
export { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from './kernelNames';
