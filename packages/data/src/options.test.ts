import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { randomDataset } from './__fixtures__/datasets';
import { createDataset, createLoader, decodeTinyImagenet, fewShotSubset, omitClasses, padTo, resize } from './index';
import { downloadFile, createWorkerProducer, extractArchive } from './node/index';
import { cropWithPadding, flipHorizontal } from './augment';
import { decodeCifar10, decodeCifar100, encodeCifar100Batch, encodeCifar10Batch } from './cifar';
import { selectSamples } from './dataset';
import { encodeIdx, parseIdx } from './idx';
import { normalizeImages } from './normalization';
import { resizeImage } from './resize';
import { decodeStl10 } from './stl10';

/** Every function that takes an options object rejects a misspelt key, naming the function, the key and the closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected with a did-you-mean', () => {
    const dataset = randomDataset({ count: 8, height: 4, width: 4, channels: 1, numClasses: 2 });
    const cases: Array<[() => unknown, string]> = [
      [
        () => createLoader(dataset, { batchSize: 4, shufle: true } as never),
        "createLoader: unknown option 'shufle', did you mean 'shuffle'?",
      ],
      [
        () =>
          createLoader(dataset, {
            batchSize: 4,
            augment: { randomCrop: { padding: 1 }, horizontalFlp: true },
          } as never),
        "createLoader: unknown option 'horizontalFlp' in options.augment, did you mean 'horizontalFlip'?",
      ],
      [
        () => createLoader(dataset, { batchSize: 4, augment: { randomCrop: { pading: 1 } } } as never),
        "createLoader: unknown option 'pading' in options.augment.randomCrop, did you mean 'padding'?",
      ],
      [
        () => createLoader(dataset, { batchSize: 4 }).batches({ epohc: 2 } as never),
        "Loader.batches: unknown option 'epohc', did you mean 'epoch'?",
      ],
      [
        () => fewShotSubset(dataset, { fraction: 0.5, mdoe: 'head' } as never),
        "fewShotSubset: unknown option 'mdoe', did you mean 'mode'?",
      ],
      [
        () => omitClasses(dataset, { class: [1] } as never),
        "omitClasses: unknown option 'class', did you mean 'classes'?",
      ],
      [() => padTo({ dataset, height: 8, widht: 8 } as never), "padTo: unknown option 'widht', did you mean 'width'?"],
      [
        () => resize({ dataset, hieght: 8, width: 8 } as never),
        "resize: unknown option 'hieght', did you mean 'height'?",
      ],
      [
        () =>
          createDataset({ images: dataset.images, label: dataset.labels, height: 4, width: 4, channels: 1 } as never),
        "createDataset: unknown option 'label', did you mean 'labels'?",
      ],
    ];
    for (const [call, message] of cases) expect(call).toThrow(message);
    expect(() =>
      decodeTinyImagenet({ split: 'train', wnids: { name: 'wnids.txt', bytes: new Uint8Array() }, image: [] } as never),
    ).toThrow("decodeTinyImagenet: unknown option 'image', did you mean 'images'?");
  });

  it('are rejected by downloadFile before any request', async () => {
    await expect(
      downloadFile({ url: 'http://127.0.0.1:9/x', destination: 'x', md5: '0', retry: 1 } as never),
    ).rejects.toThrow("downloadFile: unknown option 'retry', did you mean 'retries'?");
  });

  it('are rejected by the decoders, encoders and image helpers', async () => {
    const dataset = randomDataset({ count: 4, height: 2, width: 2, channels: 1, numClasses: 2 });
    const file = { name: 'x.bin', bytes: new Uint8Array(8) };
    const image = new Uint8Array(4);
    const cases: Array<[() => unknown, string]> = [
      [
        () => parseIdx({ file, expectedMagik: 2051 } as never),
        "parseIdx: unknown option 'expectedMagik', did you mean 'expectedMagic'?",
      ],
      [
        () => encodeIdx({ dims: [1], dat: new Uint8Array(1) } as never),
        "encodeIdx: unknown option 'dat', did you mean 'data'?",
      ],
      [
        () => decodeCifar10({ batches: [file], mta: file } as never),
        "decodeCifar10: unknown option 'mta', did you mean 'meta'?",
      ],
      [
        () => decodeCifar100({ file, label: 'fine' } as never),
        "decodeCifar100: unknown option 'label', did you mean 'labels'?",
      ],
      [
        () => encodeCifar10Batch({ images: image, label: [0] } as never),
        "encodeCifar10Batch: unknown option 'label', did you mean 'labels'?",
      ],
      [
        () => encodeCifar100Batch({ images: image, coarseLabels: [0], fineLabel: [0] } as never),
        "encodeCifar100Batch: unknown option 'fineLabel', did you mean 'fineLabels'?",
      ],
      [() => decodeStl10({ image: file } as never), "decodeStl10: unknown option 'image', did you mean 'images'?"],
      [
        () => selectSamples({ dataset, position: [0] } as never),
        "selectSamples: unknown option 'position', did you mean 'positions'?",
      ],
      [
        () => normalizeImages({ images: image, channel: 1 } as never),
        "normalizeImages: unknown option 'channel', did you mean 'channels'?",
      ],
      [
        () => cropWithPadding({ image, height: 2, width: 2, channels: 1, padding: 1, top: 0, lft: 0 } as never),
        "cropWithPadding: unknown option 'lft', did you mean 'left'?",
      ],
      [
        () => flipHorizontal({ image, height: 2, widht: 2, channels: 1 } as never),
        "flipHorizontal: unknown option 'widht', did you mean 'width'?",
      ],
      [
        () => resizeImage({ image, height: 2, width: 2, channels: 1, targetHeight: 4, targetWidht: 4 } as never),
        "resizeImage: unknown option 'targetWidht', did you mean 'targetWidth'?",
      ],
      [
        () => createWorkerProducer({ dataset, worker: 1 } as never),
        "createWorkerProducer: unknown option 'worker', did you mean 'workers'?",
      ],
    ];
    for (const [call, message] of cases) expect(call).toThrow(message);
    await expect(
      extractArchive({ archive: 'x.tar', directory: '.', folder: 'x', maxByte: 1 } as never),
    ).rejects.toThrow("extractArchive: unknown option 'maxByte', did you mean 'maxBytes'?");
  });
});
