import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { MAX_ELEMENTS, assertAllocatable, formatBytes } from './sizes';

describeWithBackends('sizes', () => {
  it('formats byte counts in SI units', () => {
    expect([0, 999, 1000, 1500, 2_147_483_647 * 4, 5.12e11, 1e12, 2 ** 40].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '1.5 kB',
      '8.6 GB',
      '512.0 GB',
      '1.0 TB',
      '1.1 TB',
    ]);
  });

  it('accepts up to MAX_ELEMENTS values and rejects one more, saying what it would need', () => {
    expect(MAX_ELEMENTS).toBe(2147483647);
    expect(() => assertAllocatable('f', 'x', MAX_ELEMENTS, 4)).not.toThrow();
    expect(() => assertAllocatable('f', 'the bank [2, 3]', MAX_ELEMENTS + 1, 4, 2)).toThrow(
      'f: the bank [2, 3] would need 2.147e+9 values, 8.6 GB (17.2 GB in all); one tensor holds at most 2147483647 values (8.6 GB)',
    );
  });
});
