import { expect, it } from 'vitest';
import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { createDataset, labelHistogram, selectSamples } from './dataset';

describeWithBackends('createDataset', () => {
  const base = {
    images: new Uint8Array(2 * 2 * 2 * 3),
    labels: Int32Array.of(0, 1),
    height: 2,
    width: 2,
    channels: 3,
    classNames: ['a', 'b'],
  };

  it('fills indices and numClasses', () => {
    const dataset = createDataset(base);
    expect([...dataset.indices]).toEqual([0, 1]);
    expect(dataset.numClasses).toBe(2);
    expect([...labelHistogram(dataset)]).toEqual([1, 1]);
  });

  it('rejects inconsistent fields', () => {
    expectThrowsWith(() => createDataset({ ...base, images: new Uint8Array(23) }), 'createDataset', 'images', '24');
    expectThrowsWith(
      () => createDataset({ ...base, labels: Int32Array.of(0, 2) }),
      'createDataset',
      'labels[1] = 2',
      '[0, 2)',
    );
    expectThrowsWith(() => createDataset({ ...base, indices: Int32Array.of(0) }), 'createDataset', 'indices');
    expectThrowsWith(
      () => createDataset({ ...base, labels: [0, 1] as never }),
      'createDataset',
      'labels',
      'Int32Array',
    );
    expectThrowsWith(() => createDataset({ ...base, height: 0 }), 'createDataset', 'height');
    expectThrowsWith(
      () => selectSamples({ dataset: createDataset(base), positions: [2] }),
      'selectSamples',
      'positions[0]',
    );
  });
});
