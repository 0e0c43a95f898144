import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { mean, pairedDifference, sampleStd, tCritical95 } from './stats';

describeWithBackends('stats', () => {
  it('mean and sample std match hand computations', () => {
    expect(mean([0.8, 0.9, 1.0])).toBeCloseTo(0.9, 12);
    // deviations −0.1, 0, 0.1: Σ = 0.02, / (3 − 1) = 0.01, √ = 0.1
    expect(sampleStd([0.8, 0.9, 1.0])).toBeCloseTo(0.1, 12);
    expect(Number.isNaN(sampleStd([0.5]))).toBe(true);
    expect(Number.isNaN(mean([]))).toBe(true);
  });

  it('paired differences use only the seeds both arms have', () => {
    const a = new Map([
      [1, 0.85],
      [2, 0.8],
      [3, 0.9],
      [4, 0.7],
    ]);
    const b = new Map([
      [1, 0.8],
      [2, 0.8],
      [3, 0.8],
    ]);
    const d = pairedDifference(a, b);
    expect(d.seeds).toEqual([1, 2, 3]);
    d.differences.forEach((value, index) => expect(value).toBeCloseTo([0.05, 0, 0.1][index] as number, 12));
    expect(d.mean).toBeCloseTo(0.05, 12);
    // deviations 0, −0.05, 0.05: Σ = 0.005, / 2 = 0.0025, √ = 0.05
    expect(d.std).toBeCloseTo(0.05, 12);
    expect(d.standardError).toBeCloseTo(0.05 / Math.sqrt(3), 12);
    expect(d.exceedsSpread).toBe(false); // |0.05| is not > 0.05
    // t = 0.05 / (0.05 / √3) = √3 ≈ 1.732 < t_{0.975, 2} = 4.303
    expect(d.t).toBeCloseTo(Math.sqrt(3), 10);
    expect(d.significant).toBe(false);
  });

  it('t critical values follow the table and reject bad degrees of freedom', () => {
    expect(tCritical95(4)).toBe(2.776);
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(100)).toBe(1.96);
    expect(() => tCritical95(0)).toThrow(/tCritical95: degreesOfFreedom must be a positive integer/);
  });

  it('a consistent gap exceeds its spread, a single pair never does', () => {
    const consistent = pairedDifference(
      new Map([
        [1, 0.9],
        [2, 0.91],
        [3, 0.92],
      ]),
      new Map([
        [1, 0.8],
        [2, 0.8],
        [3, 0.8],
      ]),
    );
    expect(consistent.exceedsSpread).toBe(true);
    // d = 0.10, 0.11, 0.12: mean 0.11, s = 0.01, t = 0.11 / (0.01 / √3) ≈ 19.05 > 4.303
    expect(consistent.t).toBeCloseTo(0.11 / (0.01 / Math.sqrt(3)), 6);
    expect(consistent.significant).toBe(true);
    const single = pairedDifference(new Map([[1, 0.9]]), new Map([[1, 0.1]]));
    expect(single.exceedsSpread).toBe(false);
    expect(Number.isNaN(single.std)).toBe(true);
  });
});
