import { join } from 'node:path';
import { selectBackend } from '@kd-example/common';
import { createModel } from '@kd/models';
import { FASHION_MNIST_NORMALIZATION } from '@kd/data';
import { trainTeacher } from '@kd/trainer';
import { loadSplitForExp } from './_load';
await selectBackend({ backend: 'wasm', log: () => undefined });
const [name, epochs, lr, aug, bs] = [process.argv[2] ?? 'resnet8', Number(process.argv[3] ?? 8), Number(process.argv[4] ?? 0.1), process.argv[5] ?? 'flip', Number(process.argv[6] ?? 64)];
const train = await loadSplitForExp('train', 3000); const test = await loadSplitForExp('t10k', 1000);
const model = createModel(name, { numClasses: 10, inputChannels: 1, seed: 1 });
const t0 = Date.now();
const r = await trainTeacher({ model, data: { train, test }, epochs, learningRate: lr, batchSize: bs, schedule: { kind: 'cosine' }, normalization: FASHION_MNIST_NORMALIZATION, seed: 1, progress: false,
  augmentation: aug === 'none' ? false : aug === 'flip' ? { horizontalFlip: true } : { randomCrop: { padding: 2 }, horizontalFlip: true },
  onEpochEnd: (e) => console.log(name, 'epoch', e.epoch, 'test', e.test?.top1, 'train', e.train?.top1 ?? '', ((Date.now() - t0) / 1000).toFixed(0) + 's') });
