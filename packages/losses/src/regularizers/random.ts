/**
 * A tiny seeded generator for weight initialisation and negative sampling. tfjs's own seeded initialisers
 * cover only some distributions and keep no state we could save, so the regularizers draw their numbers
 * here: same seed → same weights, and the sampler state can be saved with the weights to resume exactly.
 */

/** mulberry32: 32-bit state, period 2^32, good enough for initial weights and index sampling. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `count` floats uniform in [−bound, bound). */
  uniform(count: number, bound: number): Float32Array {
    const values = new Float32Array(count);
    for (let index = 0; index < count; index++) values[index] = (2 * this.next() - 1) * bound;
    return values;
  }

  /** The raw state, to save it with the weights. */
  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }
}

/** A seed from the options, or a fresh random one (recorded in `getConfig()` so the run can be repeated). */
export function resolveSeed(fn: string, seed: unknown): number {
  if (seed === undefined) return Math.floor(Math.random() * 4294967296);
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 4294967295) {
    throw new Error(`${fn}: seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
  return seed;
}
