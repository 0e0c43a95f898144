/**
 * Input validation for @kd/plot: the shared checks of @kd/internal (one message format,
 * `fn: arg must be <expectation>, got <value>`, e.g. `createImage: width must be > 0, got 0`), re-exported so the
 * package's modules import one place.
 */
export { assertNumber, assertOneOf, assertRank } from '@kd/internal';
