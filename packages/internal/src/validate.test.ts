import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  assertBoolean,
  assertInteger,
  assertNumber,
  assertObject,
  assertOneOf,
  assertSeed,
  describeValue,
} from './validate';

/** The message `action` throws (the test fails when it throws nothing). */
function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error, nothing was thrown');
}

describeWithBackends('describeValue', () => {
  it('writes numbers and booleans as they are, quotes strings and names the other kinds', () => {
    expect([1.5, Number.NaN, -Infinity, true, 10n, undefined, null].map(describeValue)).toEqual([
      '1.5',
      'NaN',
      '-Infinity',
      'true',
      '10',
      'undefined',
      'null',
    ]);
    expect(describeValue('4')).toBe("'4' (a string)");
    expect(describeValue([1])).toBe('an array');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(() => 1)).toBe('a function');
  });
});

describeWithBackends('argument checks', () => {
  it('return the value when it passes', () => {
    expect(assertNumber('f', 'x', 2.5, { positive: true, max: 3 })).toBe(2.5);
    expect(assertInteger('f', 'x', 0, { min: 0 })).toBe(0);
    expect(assertBoolean('f', 'x', false)).toBe(false);
    const object = { a: 1 };
    expect(assertObject('f', 'x', object)).toBe(object);
    expect(assertOneOf('f', 'x', 'b', ['a', 'b'])).toBe('b');
    expect(assertSeed('f', 'seed', 2 ** 32 - 1)).toBe(4294967295);
  });

  it('throw `fn: arg must be <expectation>, got <value>` for each failed constraint', () => {
    expect(messageOf(() => assertNumber('createLoader', 'options.batchSize', '8'))).toBe(
      "createLoader: options.batchSize must be a finite number, got '8' (a string)",
    );
    expect(messageOf(() => assertNumber('f', 'x', Number.NaN))).toBe('f: x must be a finite number, got NaN');
    expect(messageOf(() => assertNumber('f', 'x', 1.5, { integer: true }))).toBe('f: x must be an integer, got 1.5');
    expect(messageOf(() => assertNumber('f', 'x', 2 ** 53, { integer: true }))).toBe(
      `f: x must be an integer, got ${2 ** 53}`,
    );
    expect(messageOf(() => assertNumber('f', 'x', 0, { positive: true }))).toBe('f: x must be > 0, got 0');
    expect(messageOf(() => assertNumber('f', 'x', -1, { nonNegative: true }))).toBe('f: x must be >= 0, got -1');
    expect(messageOf(() => assertNumber('f', 'x', 1, { min: 2 }))).toBe('f: x must be >= 2, got 1');
    expect(messageOf(() => assertNumber('f', 'x', 4, { max: 3 }))).toBe('f: x must be <= 3, got 4');
    expect(messageOf(() => assertInteger('f', 'x', 0.5))).toBe('f: x must be an integer, got 0.5');
    expect(messageOf(() => assertInteger('f', 'x', '2'))).toBe("f: x must be an integer, got '2' (a string)");
    expect(messageOf(() => assertBoolean('f', 'x', 'yes'))).toBe("f: x must be a boolean, got 'yes' (a string)");
    expect(messageOf(() => assertObject('f', 'x', null))).toBe('f: x must be an object, got null');
    expect(messageOf(() => assertObject('f', 'x', []))).toBe('f: x must be an object, got an array');
  });

  it('assertOneOf lists the valid values', () => {
    expect(messageOf(() => assertOneOf('renderHeatmap', 'options.colormap', 'red', ['jet', 'gray']))).toBe(
      "renderHeatmap: options.colormap must be one of 'jet', 'gray', got 'red' (a string)",
    );
    expect(messageOf(() => assertOneOf('f', 'mode', 3, ['a']))).toBe("f: mode must be one of 'a', got 3");
  });

  it('assertSeed takes exactly the integers in [0, 2^32)', () => {
    for (const seed of [0, 1, 123456789, 2 ** 32 - 1]) expect(assertSeed('f', 'seed', seed)).toBe(seed);
    for (const seed of [-1, 2 ** 32, 0.5, Number.NaN, '1', undefined]) {
      expect(messageOf(() => assertSeed('buildModel', 'options.seed', seed))).toBe(
        `buildModel: options.seed must be an integer in [0, 2^32), got ${describeValue(seed)}`,
      );
    }
  });
});
