import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { randomDataset } from './__fixtures__/datasets';
import { createDataset, createLoader, decodeTinyImagenet, fewShotSubset, omitClasses, padTo, resize } from './index';
import { downloadFile } from './node/index';

/** Every function that takes an options object rejects a misspelt key, naming the function, the key and the closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected with a did-you-mean', () => {
    const dataset = randomDataset({ count: 8, height: 4, width: 4, channels: 1, numClasses: 2 });
    const cases: Array<[() => unknown, string]> = [
      [() => createLoader(dataset, { batchSize: 4, shufle: true } as never), "createLoader: unknown option 'shufle', did you mean 'shuffle'?"],
      [() => createLoader(dataset, { batchSize: 4, augment: { randomCrop: { padding: 1 }, horizontalFlp: true } } as never),
        "createLoader: unknown option 'horizontalFlp' in options.augment, did you mean 'horizontalFlip'?"],
      [() => createLoader(dataset, { batchSize: 4, augment: { randomCrop: { pading: 1 } } } as never),
        "createLoader: unknown option 'pading' in options.augment.randomCrop, did you mean 'padding'?"],
      [() => createLoader(dataset, { batchSize: 4 }).batches({ epohc: 2 } as never), "Loader.batches: unknown option 'epohc', did you mean 'epoch'?"],
      [() => fewShotSubset(dataset, { fraction: 0.5, mdoe: 'head' } as never), "fewShotSubset: unknown option 'mdoe', did you mean 'mode'?"],
      [() => omitClasses(dataset, { class: [1] } as never), "omitClasses: unknown option 'class', did you mean 'classes'?"],
      [() => padTo({ dataset, height: 8, widht: 8 } as never), "padTo: unknown option 'widht', did you mean 'width'?"],
      [() => resize({ dataset, hieght: 8, width: 8 } as never), "resize: unknown option 'hieght', did you mean 'height'?"],
      [() => createDataset({ images: dataset.images, label: dataset.labels, height: 4, width: 4, channels: 1 } as never),
        "createDataset: unknown option 'label', did you mean 'labels'?"],
    ];
    for (const [call, message] of cases) expect(call).toThrow(message);
    expect(() => decodeTinyImagenet({ split: 'train', wnids: { name: 'wnids.txt', bytes: new Uint8Array() }, image: [] } as never)).toThrow(
      "decodeTinyImagenet: unknown option 'image', did you mean 'images'?",
    );
  });

  it('are rejected by downloadFile before any request', async () => {
    await expect(downloadFile({ url: 'http://127.0.0.1:9/x', destination: 'x', md5: '0', retry: 1 } as never)).rejects.toThrow(
      "downloadFile: unknown option 'retry', did you mean 'retries'?",
    );
  });
});
