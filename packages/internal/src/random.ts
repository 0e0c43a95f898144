/**
 * The one seeded generator of the packages: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2021), 128-bit state, period 2^128 − 1, with a JSON-serialisable state so a checkpoint
 * can store it and a resumed run draws the same numbers. A (seed, stream name) pair is spread over the state
 * with splitmix32, so nearby seeds and different streams give unrelated sequences.
 */
import { assertInteger } from './validate';

/** The generator's full state: four uint32 words, never all zero. */
export type RandomState = readonly [number, number, number, number];

/** FNV-1a hash of a string (32 bits): names a stream of draws. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's 32-bit finaliser: an invertible mix with full avalanche. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotateLeft(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/**
 * Hashes a list of integers (a seed, an epoch, a batch index, a salt, …) into one seed in [0, 2^32), so
 * every draw can be a pure function of where it happens, independent of the order work is done in. Each
 * part is a safe integer; its high and low 32 bits and its position all count.
 *
 * @example new SeededRandom(deriveSeed([seed, epoch, SHUFFLE_SALT]))
 */
export function deriveSeed(parts: readonly number[]): number {
  let hash = 0x9e3779b9;
  parts.forEach((part, index) => {
    const value = assertInteger('deriveSeed', `parts[${index}]`, part);
    const low = value >>> 0;
    const high = Math.floor(value / 4294967296) >>> 0;
    hash = mix32((hash ^ low) + 0x9e3779b9 + index);
    hash = mix32((hash ^ high) + 0x7f4a7c15);
  });
  return hash;
}

/**
 * Throws unless `value` is a {@link RandomState}: four integers in [0, 2^32), not all zero. Returns it.
 */
export function assertRandomState(fn: string, arg: string, value: unknown): RandomState {
  if (!Array.isArray(value) || value.length !== 4) {
    throw new Error(`${fn}: ${arg} must be an array of four uint32 words, got ${JSON.stringify(value)}`);
  }
  value.forEach((word, index) => assertInteger(fn, `${arg}[${index}]`, word, { min: 0, max: 4294967295 }));
  if (value.every((word) => word === 0)) throw new Error(`${fn}: ${arg} must not be all zero`);
  return value as unknown as RandomState;
}

/**
 * A seeded stream of draws. Equal (seed, stream) pairs give equal sequences; the seed is an integer in
 * [0, 2^32) (check it with `assertSeed` where it comes from the user).
 *
 * @example
 * const random = new SeededRandom(42, 'layer1.0.conv1.weight');
 * random.nextNormal();
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The second normal of the last Box–Muller pair, not yet returned (not part of the state). */
  private spareNormal: number | undefined;

  constructor(seed: number, stream = '') {
    // splitmix32: step a Weyl sequence from the mixed seed and finalise each step into one state word.
    let mixer = ((seed >>> 0) ^ hashString(stream)) >>> 0;
    const next = (): number => {
      mixer = (mixer + 0x9e3779b9) >>> 0;
      return mix32(mixer);
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

  /** A uniform integer in [0, bound) for an integer bound in [1, 2^32], unbiased (rejects the top partial range). */
  nextInt(bound: number): number {
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** A standard normal N(0, 1) draw. Box–Muller: uniforms u1 ∈ (0, 1], u2 give r·cos θ, then r·sin θ. */
  nextNormal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const u1 = 1 - this.nextFloat();
    const u2 = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** `count` float32 values uniform in [−bound, bound). */
  uniformArray(count: number, bound: number): Float32Array {
    const values = new Float32Array(count);
    for (let index = 0; index < count; index++) values[index] = (2 * this.nextFloat() - 1) * bound;
    return values;
  }

  /** The current state, to store in a checkpoint (JSON-serialisable). */
  getState(): RandomState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /**
   * Restores a state from {@link SeededRandom.getState} (check untrusted input with {@link assertRandomState});
   * the stream continues exactly where it was saved.
   */
  setState(state: RandomState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.map((word) => word >>> 0) as [number, number, number, number];
    this.spareNormal = undefined;
  }
}

/**
 * A Fisher–Yates permutation of [0, length) drawn from `random`: for i from length − 1 down to 1, swap i with a
 * uniform j ∈ [0, i].
 */
export function shuffledRange(length: number, random: SeededRandom): Int32Array {
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
