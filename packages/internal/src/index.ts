/**
 * Private helpers shared by the published @kd packages. Each package bundles what it uses (tsup
 * `noExternal`), so nothing here is a runtime dependency and nothing here may appear in a public type.
 */
export { assertKnownOptions, closestKey, editDistance } from './options';
export { MAX_ELEMENTS, assertAllocatable, formatBytes } from './sizes';
