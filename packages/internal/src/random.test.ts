import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { SeededRandom, assertRandomState, deriveSeed, hashString, shuffledRange } from './random';

/** One xoshiro128** step written out with BigInt arithmetic: [output, next state]. */
function referenceStep(state: readonly number[]): [number, number[]] {
  const mask = (1n << 32n) - 1n;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
  const s = state.map(BigInt) as [bigint, bigint, bigint, bigint];
  const output = (rotl((s[1] * 5n) & mask, 7n) * 9n) & mask;
  const t = (s[1] << 9n) & mask;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11n);
  return [Number(output), s.map(Number)];
}

/** splitmix32 with murmur3's finaliser, in BigInt: the four state words a (seed, stream) pair starts from. */
function referenceSeeding(seed: number, stream: string): number[] {
  const mask = (1n << 32n) - 1n;
  let x = BigInt((seed ^ hashString(stream)) >>> 0);
  const words: number[] = [];
  for (let k = 0; k < 4; k++) {
    x = (x + 0x9e3779b9n) & mask;
    let h = x;
    h = ((h ^ (h >> 16n)) * 0x85ebca6bn) & mask;
    h = ((h ^ (h >> 13n)) * 0xc2b2ae35n) & mask;
    words.push(Number(h ^ (h >> 16n)));
  }
  return words;
}

describeWithBackends('SeededRandom', () => {
  it('starts from the splitmix32 state of (seed, stream) and follows the xoshiro128** recurrence', () => {
    for (const [seed, stream] of [
      [0, ''],
      [42, 'layer1.0.conv1.weight'],
      [4294967295, 'x'],
    ] as const) {
      const random = new SeededRandom(seed, stream);
      let state = referenceSeeding(seed, stream);
      expect(random.getState()).toEqual(state);
      for (let step = 0; step < 5; step++) {
        const [output, next] = referenceStep(state);
        expect(random.nextUint32()).toBe(output);
        state = next;
      }
      expect(random.getState()).toEqual(state);
    }
    expect(hashString('')).toBe(0x811c9dc5);
  });

  it('is deterministic per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number, stream?: string) => {
      const random = new SeededRandom(seed, stream);
      return Array.from({ length: 8 }, () => random.nextUint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
  });

  it('draws floats in [0, 1), integers in [0, bound) uniformly and normals with mean 0 and variance 1', () => {
    const random = new SeededRandom(3);
    const count = 60_000;
    const bins = new Array<number>(6).fill(0);
    let outside = 0;
    let normalSum = 0;
    let normalSquares = 0;
    for (let index = 0; index < count; index++) {
      const u = random.nextFloat();
      if (!(u >= 0 && u < 1)) outside++;
      const k = random.nextInt(6);
      bins[k] = (bins[k] as number) + 1;
      const z = random.nextNormal();
      normalSum += z;
      normalSquares += z * z;
    }
    expect(outside).toBe(0);
    expect(bins.reduce((sum, total) => sum + total, 0)).toBe(count);
    const chi2 = bins.reduce((sum, total) => sum + (total - count / 6) ** 2 / (count / 6), 0);
    expect(chi2).toBeLessThan(20.5); // p ≈ 0.001 for 5 degrees of freedom
    // Standard errors 1/√n ≈ 0.004 for the mean and √(2/n) ≈ 0.006 for the variance.
    expect(Math.abs(normalSum / count)).toBeLessThan(0.02);
    expect(Math.abs(normalSquares / count - 1)).toBeLessThan(0.03);
    const values = random.uniformArray(1000, 0.5);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...values)).toBeLessThan(0.5);
  });

  it('restores a saved state and continues the same stream', () => {
    const random = new SeededRandom(7);
    random.nextUint32();
    const saved = assertRandomState('test', 'state', JSON.parse(JSON.stringify(random.getState())));
    const continued = Array.from({ length: 5 }, () => random.nextFloat());
    const restored = new SeededRandom(999);
    restored.setState(saved);
    expect(Array.from({ length: 5 }, () => restored.nextFloat())).toEqual(continued);
  });

  it('assertRandomState rejects states that are not four uint32 words or are all zero', () => {
    expect(() => assertRandomState('Random.setState', 'state', [1, 2, 3])).toThrow(
      'Random.setState: state must be an array of four',
    );
    expect(() => assertRandomState('f', 'state', [1, 2, 3, -1])).toThrow('f: state[3] must be >= 0, got -1');
    expect(() => assertRandomState('f', 'state', [0, 0, 0, 0])).toThrow('f: state must not be all zero');
  });
});

describeWithBackends('deriveSeed and shuffledRange', () => {
  it('hashes every part, its position and its high bits into [0, 2^32)', () => {
    expect(deriveSeed([1, 2])).toBe(deriveSeed([1, 2]));
    expect(deriveSeed([1, 2])).not.toBe(deriveSeed([2, 1]));
    expect(deriveSeed([1, 2 ** 40])).not.toBe(deriveSeed([1, 0]));
    for (const parts of [[], [0], [5, 7, 9], [2 ** 53 - 1]]) {
      const seed = deriveSeed(parts);
      expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
    }
    expect(() => deriveSeed([1, 0.5])).toThrow('deriveSeed: parts[1] must be an integer, got 0.5');
  });

  it('shuffledRange returns a permutation that depends on the generator', () => {
    const order = shuffledRange(100, new SeededRandom(5));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect([...order]).not.toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect([...shuffledRange(100, new SeededRandom(5))]).toEqual([...order]);
    expect([...shuffledRange(100, new SeededRandom(6))]).not.toEqual([...order]);
  });
});
