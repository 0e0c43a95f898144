import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { Random } from './random';

describeWithBackends('Random', () => {
  it('matches the xoshiro128** recurrence computed by hand from the seeded state', () => {
    const random = new Random({ seed: 42 });
    const [a, b, c, d] = random.getState();
    // Reference: one step of xoshiro128** written out with BigInt arithmetic.
    const mask = (1n << 32n) - 1n;
    const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
    const s = [BigInt(a), BigInt(b), BigInt(c), BigInt(d)] as [bigint, bigint, bigint, bigint];
    const expected = (rotl((s[1] * 5n) & mask, 7n) * 9n) & mask;
    expect(random.nextUint32()).toBe(Number(expected));
    const t = (s[1] << 9n) & mask;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    expect(random.getState()).toEqual(s.map(Number));
  });

  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const r = new Random({ seed });
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('restores a saved state and continues the same stream', () => {
    const random = new Random({ seed: 7 });
    random.nextUint32();
    const saved = JSON.parse(JSON.stringify(random.getState()));
    const continued = Array.from({ length: 5 }, () => random.nextFloat());
    const restored = new Random({ seed: 999 });
    restored.setState(saved);
    expect(Array.from({ length: 5 }, () => restored.nextFloat())).toEqual(continued);
  });

  it('draws nextInt uniformly (chi-square over 6 bins)', () => {
    const random = new Random({ seed: 3 });
    const counts = new Array(6).fill(0);
    const n = 60000;
    for (let i = 0; i < n; i++) counts[random.nextInt(6)]++;
    const chi2 = counts.reduce((sum, c) => sum + (c - n / 6) ** 2 / (n / 6), 0);
    expect(chi2).toBeLessThan(20.5); // p ≈ 0.001 for 5 degrees of freedom
  });

  it('rejects bad seeds, bounds and states', () => {
    expectThrowsWith(() => new Random({ seed: 1.5 }), 'Random', 'seed', 'integer');
    expectThrowsWith(() => new Random({ seed: Number.NaN }), 'Random: seed must be an integer in [0, 2^32), got NaN');
    expectThrowsWith(() => new Random({ seed: -1 }), 'Random: seed must be an integer in [0, 2^32), got -1');
    expectThrowsWith(
      () => new Random({ seed: 2 ** 32 }),
      'Random: seed must be an integer in [0, 2^32), got 4294967296',
    );
    expectThrowsWith(() => new Random({ seed: 1 }).nextInt(0), 'nextInt', 'bound');
    expectThrowsWith(() => new Random({ seed: 1 }).setState([0, 0, 0, 0]), 'setState', 'all zero');
    expectThrowsWith(() => new Random({ seed: 1 }).setState([1, 2, 3] as never), 'setState', 'four');
    expectThrowsWith(() => new Random({ seed: 1 }).setState([1, 2, 3, -1]), 'setState', 'state[3]');
  });
});
