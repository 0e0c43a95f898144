/**
 * A small seeded PRNG with serialisable state, so a trainer can checkpoint it and a resumed run draws the
 * same numbers. Generator: xoshiro128** (Blackman & Vigna), 128-bit state, period 2^128 − 1; seeded through
 * splitmix32 so nearby seeds give unrelated streams.
 */
import { assertNumber } from './validate';

/** The generator's full state: four uint32 words (never all zero). JSON-serialisable. */
export type RandomState = readonly [number, number, number, number];

function rotateLeft(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/** murmur3's 32-bit finaliser: an invertible mix with full avalanche. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkSeedPart(fn: string, arg: string, value: unknown): number {
  return assertNumber(fn, arg, value, { integer: true, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
}

/**
 * Hashes a list of integers (a seed, an epoch, a batch index, …) into one uint32 seed. Used to make every
 * random draw of the loader a pure function of (seed, epoch, batch), independent of the order work is done in.
 *
 * @example
 * const epochSeed = deriveSeed({ parts: [seed, epoch] });
 */
export function deriveSeed({ parts }: { parts: readonly number[] }): number {
  let hash = 0x9e3779b9;
  parts.forEach((part, index) => {
    const value = checkSeedPart('deriveSeed', `parts[${index}]`, part);
    const low = value >>> 0;
    const high = Math.floor(value / 4294967296) >>> 0;
    hash = mix32((hash ^ low) + 0x9e3779b9 + index);
    hash = mix32((hash ^ high) + 0x7f4a7c15);
  });
  return hash;
}

/** A seeded random stream. All draws are deterministic given the seed (or a restored state). */
export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seeds the stream; equal seeds give equal streams. */
  constructor({ seed }: { seed: number }) {
    let x = deriveSeed({ parts: [checkSeedPart('Random', 'seed', seed)] });
    // splitmix32: fill the four state words from the seed.
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform integer in [0, 2^32). xoshiro128**: result = rotl(s1·5, 7)·9, then the linear state update. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, bound), unbiased (rejection of the top partial range). */
  nextInt(bound: number): number {
    assertNumber('Random.nextInt', 'bound', bound, { integer: true, positive: true, max: 4294967296 });
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** The current state, to store in a checkpoint. */
  getState(): RandomState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Restores a state from {@link Random.getState}; the stream continues exactly where it was saved. */
  setState(state: RandomState): void {
    if (!Array.isArray(state as unknown) || state.length !== 4) {
      throw new Error(`Random.setState: state must be an array of four uint32 words, got ${JSON.stringify(state)}`);
    }
    state.forEach((word, index) => assertNumber('Random.setState', `state[${index}]`, word, { integer: true, min: 0, max: 4294967295 }));
    if (state.every((word) => word === 0)) throw new Error('Random.setState: state must not be all zero');
    this.s0 = state[0];
    this.s1 = state[1];
    this.s2 = state[2];
    this.s3 = state[3];
  }
}

/**
 * A Fisher–Yates permutation of [0, length) from `random`: for i from length−1 down to 1, swap i with a
 * uniform j ∈ [0, i].
 */
export function shuffledRange(length: number, random: Random): Int32Array {
  const order = new Int32Array(length);
  for (let index = 0; index < length; index++) order[index] = index;
  for (let index = length - 1; index > 0; index--) {
    const other = random.nextInt(index + 1);
    const swap = order[index] as number;
    order[index] = order[other] as number;
    order[other] = swap;
  }
  return order;
}
