/**
 * The public seeded generator of @kd/data, for `planAugmentation`: a wrapper over the one generator of
 * the packages (xoshiro128**, Blackman & Vigna; 128-bit state, period 2^128 − 1) with a serialisable state,
 * so a trainer can checkpoint it and a resumed run draws the same numbers.
 */
import { SeededRandom, assertInteger, assertRandomState, assertSeed } from '@kd/internal';

/** The generator's full state: four uint32 words (never all zero). JSON-serialisable. */
export type RandomState = readonly [number, number, number, number];

/**
 * A seeded random stream. All draws are deterministic given the seed (or a restored state).
 *
 * @example
 * const random = new Random({ seed: 7 });
 * const plan = planAugmentation({ count: 64, augment: CIFAR_AUGMENTATION, random });
 */
export class Random {
  readonly #generator: SeededRandom;

  /** Seeds the stream (an integer in [0, 2^32)); equal seeds give equal streams. */
  constructor(options: { seed: number }) {
    this.#generator = new SeededRandom(assertSeed('Random', 'seed', options?.seed));
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    return this.#generator.nextUint32();
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.#generator.nextFloat();
  }

  /** A uniform integer in [0, bound), unbiased; `bound` is an integer in [1, 2^32]. */
  nextInt(bound: number): number {
    return this.#generator.nextInt(assertInteger('Random.nextInt', 'bound', bound, { min: 1, max: 4294967296 }));
  }

  /** The current state, to store in a checkpoint. */
  getState(): RandomState {
    return this.#generator.getState();
  }

  /** Restores a state from {@link Random.getState}; the stream continues exactly where it was saved. */
  setState(state: RandomState): void {
    this.#generator.setState(assertRandomState('Random.setState', 'state', state));
  }
}
