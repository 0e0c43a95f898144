/**
 * Seeded random numbers for weight initialisation. tf.randomNormal draws from a global generator, so two
 * models built in a different order would get different weights; here every variable draws from its own
 * stream, derived from (model seed, variable name), so the same seed always gives the same weights.
 */

/** A stream of uniform and normal draws. */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

/** FNV-1a hash of a string (32 bits). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** splitmix32: spreads a 32-bit seed over a full state word. */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) >>> 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** generator seeded from `seed` (a non-negative safe integer) and a stream name.
 *
 * @example
 * const random = createRandomStream(42, 'layer1.0.conv1.weight');
 * random.normal();
 */
export function createRandomStream(seed: number, stream: string): RandomStream {
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0;
  const mixer = { value: (low ^ Math.imul(high, 0x27d4eb2d) ^ hashString(stream)) >>> 0 };
  let s0 = splitmix32(mixer);
  let s1 = splitmix32(mixer);
  let s2 = splitmix32(mixer);
  let s3 = splitmix32(mixer);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotateLeft(s3, 11);
    return result;
  };

  let spareNormal: number | undefined;
  const uniform = (): number => nextUint32() / 4294967296;
  return {
    uniform,
    normal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      // Box–Muller: two uniforms u1 ∈ (0, 1], u2 give two independent normals r·cos θ and r·sin θ.
      const u1 = 1 - uniform();
      const u2 = uniform();
      const radius = Math.sqrt(-2 * Math.log(u1));
      const angle = 2 * Math.PI * u2;
      spareNormal = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
