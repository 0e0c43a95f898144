/**
 * Seeded random numbers for weight initialisation. tf.randomNormal draws from a global generator, so two
 * models built in a different order would get different weights; here every variable draws from its own
 * stream, derived from (model seed, variable name), so the same seed always gives the same weights. The
 * generator is the packages' one seeded generator (xoshiro128**, seeded through splitmix32).
 */
import { SeededRandom, assertSeed } from '@kd/internal';

/** A stream of uniform and normal draws. */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

/**
 * The stream of draws named `stream` under `seed` (an integer in [0, 2^32)).
 *
 * @example
 * const random = createRandomStream(42, 'layer1.0.conv1.weight');
 * random.normal();
 */
export function createRandomStream(seed: number, stream: string): RandomStream {
  const random = new SeededRandom(assertSeed('createRandomStream', 'seed', seed), stream);
  return { uniform: () => random.nextFloat(), normal: () => random.nextNormal() };
}
