/**
 * Zero padding to a larger canvas, centred: 28×28 (Fashion-MNIST, MNIST) → 32×32 for the CIFAR model zoo.
 */
import { assertKnownOptions } from '@kd/internal';
import type { Dataset } from './dataset';
import { assertDataset } from './dataset';
import { assertNumber } from './validate';

/**
 * Pads every image of `dataset` with zero pixels to `height × width`, top = ⌊(height − H)/2⌋ and
 * left = ⌊(width − W)/2⌋ (28 → 32 adds 2 on every side). Labels, indices and class names are kept.
 *
 * @example
 * const fashion32 = padTo({ dataset: fashionTrain, height: 32, width: 32 });
 */
export function padTo(options: { dataset: Dataset; height: number; width: number }): Dataset {
  assertKnownOptions('padTo', options, ['dataset', 'height', 'width']);
  const dataset = assertDataset('padTo', 'options.dataset', options.dataset);
  const height = assertNumber('padTo', 'options.height', options.height, { integer: true, positive: true });
  const width = assertNumber('padTo', 'options.width', options.width, { integer: true, positive: true });
  if (height < dataset.height || width < dataset.width) {
    throw new Error(
      `padTo: target ${height}×${width} is smaller than the images (${dataset.height}×${dataset.width}); use resize to shrink`,
    );
  }
  const { channels } = dataset;
  const top = Math.floor((height - dataset.height) / 2);
  const left = Math.floor((width - dataset.width) / 2);
  const count = dataset.labels.length;
  const inRow = dataset.width * channels;
  const inSize = dataset.height * inRow;
  const outSize = height * width * channels;
  const images = new Uint8Array(count * outSize);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < dataset.height; y++) {
      const from = i * inSize + y * inRow;
      images.set(dataset.images.subarray(from, from + inRow), i * outSize + ((y + top) * width + left) * channels);
    }
  }
  return { ...dataset, images, height, width };
}
