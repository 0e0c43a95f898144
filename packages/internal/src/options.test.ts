import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { assertKnownOptions, closestKey, editDistance } from './options';

/** Plain Levenshtein by recursion with memo (no swaps), the reference for strings without adjacent swaps. */
function levenshtein(a: string, b: string): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const keyOf = `${i},${j}`;
    const cached = memo.get(keyOf);
    if (cached !== undefined) return cached;
    const value = Math.min(go(i - 1, j) + 1, go(i, j - 1) + 1, go(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    memo.set(keyOf, value);
    return value;
  };
  return go(a.length, b.length);
}

describeWithBackends('editDistance', () => {
  it('counts insertions, deletions and substitutions like Levenshtein', () => {
    const pairs: Array<[string, string]> = [
      ['kitten', 'sitting'],
      ['', 'seed'],
      ['sed', 'seed'],
      ['shufle', 'shuffle'],
      ['mdoe', 'mode'.slice(0, 3)],
      ['distance', 'angleWeight'],
      ['flaw', 'lawn'],
    ];
    for (const [a, b] of pairs) expect(editDistance(a, b), `${a} -> ${b}`).toBe(levenshtein(a, b));
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('counts a swap of two adjacent characters once', () => {
    expect(editDistance('mdoe', 'mode')).toBe(1);
    expect(levenshtein('mdoe', 'mode')).toBe(2);
    expect(editDistance('temprature', 'temperature')).toBe(1);
    expect(editDistance('distanceWieght', 'distanceWeight')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
  });
});

describeWithBackends('closestKey', () => {
  it('picks the nearest known key, ignoring case, first on ties', () => {
    expect(closestKey('shufle', ['batchSize', 'shuffle', 'seed'])).toBe('shuffle');
    expect(closestKey('sed', ['batchSize', 'shuffle', 'seed'])).toBe('seed');
    expect(closestKey('Temperature', ['gamma', 'temperature'])).toBe('temperature');
    // 'ab' is one edit from both 'a' and 'b': the first listed wins.
    expect(closestKey('ab', ['b', 'a'])).toBe('b');
    expect(closestKey('x', [])).toBeUndefined();
  });
});

describeWithBackends('assertKnownOptions', () => {
  const known = ['temperature', 'gamma'] as const;

  it('accepts known keys and undefined options', () => {
    expect(() => assertKnownOptions('kdLoss', { temperature: 4 }, known)).not.toThrow();
    expect(() => assertKnownOptions('kdLoss', {}, known)).not.toThrow();
    expect(() => assertKnownOptions('kdLoss', undefined, known)).not.toThrow();
  });

  it('names the function, the key and the closest known key', () => {
    expect(() => assertKnownOptions('kdLoss', { temperature: 4, temprature: 4 }, known)).toThrow(
      "kdLoss: unknown option 'temprature', did you mean 'temperature'? (known options: temperature, gamma)",
    );
  });

  it('names where the options are when given', () => {
    expect(() => assertKnownOptions('distillStudent', { gama: 1 }, known, "objectives[0].options ('kd')")).toThrow(
      "distillStudent: unknown option 'gama' in objectives[0].options ('kd'), did you mean 'gamma'?",
    );
  });

  it('says so when the function takes no options', () => {
    expect(() => assertKnownOptions('f', { a: 1 }, [])).toThrow("f: unknown option 'a'; it takes no options");
  });

  it('rejects options that are not a plain object', () => {
    expect(() => assertKnownOptions('f', null, known)).toThrow('f: options must be an object, got null');
    expect(() => assertKnownOptions('f', [1], known)).toThrow('f: options must be an object, got an array');
    expect(() => assertKnownOptions('f', 3, known, 'objective.options')).toThrow(
      'f: objective.options must be an object, got 3',
    );
  });
});
