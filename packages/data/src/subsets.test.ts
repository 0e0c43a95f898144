import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from './__fixtures__/datasets';
import { labelHistogram } from './dataset';
import { fewShotSubset, omitClasses } from './subsets';

describeWithBackends('fewShotSubset', () => {
  const dataset = randomDataset({ count: 200, height: 2, width: 2, channels: 3, numClasses: 4 });

  it("'head' keeps the first fraction in file order with its pixels and indices", () => {
    const subset = fewShotSubset(dataset, { fraction: 0.05, mode: 'head' });
    expect([...subset.indices]).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect([...subset.images]).toEqual([...dataset.images.subarray(0, 10 * 12)]);
    expect([...subset.labels]).toEqual([...dataset.labels.subarray(0, 10)]);
  });

  it("'stratified' keeps class balance, file order and original indices; seeded", () => {
    const subset = fewShotSubset(dataset, { fraction: 0.1, mode: 'stratified', seed: 3 });
    expect([...labelHistogram(subset)]).toEqual([5, 5, 5, 5]);
    expect([...subset.indices]).toEqual([...subset.indices].sort((a, b) => a - b));
    subset.indices.forEach((index, row) => {
      expect(subset.labels[row]).toBe(dataset.labels[index]);
      expect([...subset.images.subarray(row * 12, row * 12 + 12)]).toEqual([
        ...dataset.images.subarray(index * 12, index * 12 + 12),
      ]);
    });
    expect([...fewShotSubset(dataset, { fraction: 0.1, seed: 3 }).indices]).toEqual([...subset.indices]);
    expect([...fewShotSubset(dataset, { fraction: 0.1, seed: 4 }).indices]).not.toEqual([...subset.indices]);
  });

  it('rejects bad options', () => {
    expectThrowsWith(() => fewShotSubset(dataset, { fraction: 0 }), 'fewShotSubset', 'fraction', '> 0');
    expectThrowsWith(() => fewShotSubset(dataset, { fraction: 1.5 }), 'fewShotSubset', 'fraction', '<= 1');
    expectThrowsWith(
      () => fewShotSubset(dataset, { fraction: 0.5, mode: 'random' as never }),
      'fewShotSubset',
      'mode',
      "'stratified', 'head'",
    );
  });
});

describeWithBackends('omitClasses', () => {
  it('drops every sample of the omitted classes and keeps indices and labels', () => {
    const dataset = randomDataset({ count: 20, height: 1, width: 1, channels: 1, numClasses: 10 });
    const subset = omitClasses(dataset, { classes: [9, 7] });
    expect(subset.numClasses).toBe(10);
    expect([...subset.indices]).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16, 18]);
    expect([...subset.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 0, 1, 2, 3, 4, 5, 6, 8]);
    expect([...subset.images]).toEqual([...subset.indices].map((i) => dataset.images[i]));
    expectThrowsWith(() => omitClasses(dataset, { classes: [10] }), 'omitClasses', 'classes[0]');
    expectThrowsWith(() => omitClasses(dataset, {} as never), 'omitClasses', 'classes');
    expect(() => omitClasses(dataset, { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(
      'omitClasses: options.classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] omits every class the dataset holds; nothing would be left',
    );
    // Every class present (a subset that holds only classes 0 and 1), not every class of numClasses.
    const two = omitClasses(dataset, { classes: [2, 3, 4, 5, 6, 7, 8, 9] });
    expectThrowsWith(() => omitClasses(two, { classes: [1, 0] }), 'omitClasses', 'omits every class');
  });
});
