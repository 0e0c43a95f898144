import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createRandomStream } from './random';

describeWithBackends('seeded random streams', () => {
  it('a (seed, stream) pair always gives the same draws; other seeds or streams give others', () => {
    const draw = (seed: number, stream: string) => {
      const random = createRandomStream(seed, stream);
      return Array.from({ length: 5 }, () => random.uniform());
    };
    expect(draw(1, 'conv1.weight')).toEqual(draw(1, 'conv1.weight'));
    expect(draw(1, 'conv1.weight')).not.toEqual(draw(2, 'conv1.weight'));
    expect(draw(1, 'conv1.weight')).not.toEqual(draw(1, 'conv2.weight'));
    // Seeds are integers in [0, 2^32), as everywhere in the packages.
    expect(() => draw(2 ** 32 + 1, 'a')).toThrow(
      'createRandomStream: seed must be an integer in [0, 2^32), got 4294967297',
    );
    expect(() => draw(-1, 'a')).toThrow('createRandomStream: seed must be an integer in [0, 2^32), got -1');
  });

  it('uniforms lie in [0, 1) and normals have mean 0 and variance 1', () => {
    const random = createRandomStream(3, 'moments');
    const count = 200_000;
    let uniformSum = 0;
    let normalSum = 0;
    let normalSquares = 0;
    let outOfRange = 0;
    for (let index = 0; index < count; index++) {
      const u = random.uniform();
      if (!(u >= 0 && u < 1)) outOfRange++;
      uniformSum += u;
      const z = random.normal();
      normalSum += z;
      normalSquares += z * z;
    }
    expect(outOfRange).toBe(0);
    // Standard errors: 0.29/√n ≈ 0.0006 for the uniform mean, 1/√n ≈ 0.002 for the normal mean, √(2/n) ≈ 0.003 for its variance.
    expect(Math.abs(uniformSum / count - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(normalSum / count)).toBeLessThan(0.01);
    expect(Math.abs(normalSquares / count - 1)).toBeLessThan(0.015);
  });
});
