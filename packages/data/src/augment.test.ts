import { expect, it } from 'vitest';
import { describeWithBackends, expectArraysClose, expectThrowsWith } from '@kd/test-utils';
import { randomDataset } from './__fixtures__/datasets';
import {
  CIFAR_AUGMENTATION,
  augmentBatchInto,
  augmentImages,
  cropWithPadding,
  flipHorizontal,
  planAugmentation,
} from './augment';
import { CIFAR100_NORMALIZATION } from './normalization';
import { Random } from './random';

// A 3×3 image with 2 channels, pixel (y, x, c) = 10·(3y + x) + c + 1: every value is distinct and non-zero.
const image = Uint8Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 2) + (i % 2) + 1);
const at = (y: number, x: number, c: number) => 10 * (3 * y + x) + c + 1;

describeWithBackends('cropWithPadding / flipHorizontal', () => {
  it('crops the window at (top, left) of the zero-padded image', () => {
    // padding 1, corner (0, 2): the window covers padded rows 0..2 and columns 2..4, i.e. source rows −1..1 and
    // columns 1..3 — the first row and last column fall in the zero padding.
    const out = cropWithPadding({ image, height: 3, width: 3, channels: 2, padding: 1, top: 0, left: 2 });
    const expected: number[] = [];
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 2; c++) {
          const sy = y - 1,
            sx = x + 1;
          expected.push(sy >= 0 && sy < 3 && sx < 3 ? at(sy, sx, c) : 0);
        }
    expect([...out]).toEqual(expected);
    expect([...out.subarray(0, 6)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...out.subarray(6, 8)]).toEqual([at(0, 1, 0), at(0, 1, 1)]);
  });

  it('is the identity at the centre offset', () => {
    expect([...cropWithPadding({ image, height: 3, width: 3, channels: 2, padding: 2, top: 2, left: 2 })]).toEqual([
      ...image,
    ]);
  });

  it('mirrors columns and keeps channel order', () => {
    const out = flipHorizontal({ image, height: 3, width: 3, channels: 2 });
    expect([...out.subarray(0, 6)]).toEqual([
      at(0, 2, 0),
      at(0, 2, 1),
      at(0, 1, 0),
      at(0, 1, 1),
      at(0, 0, 0),
      at(0, 0, 1),
    ]);
    expect([...flipHorizontal({ image: out, height: 3, width: 3, channels: 2 })]).toEqual([...image]);
  });

  it('rejects bad arguments', () => {
    expectThrowsWith(
      () => cropWithPadding({ image, height: 3, width: 3, channels: 2, padding: 1, top: 3, left: 0 }),
      'cropWithPadding',
      'top',
    );
    expectThrowsWith(
      () => cropWithPadding({ image, height: 3, width: 4, channels: 2, padding: 1, top: 0, left: 0 }),
      'cropWithPadding',
      'image',
      '24',
    );
    expectThrowsWith(
      () => flipHorizontal({ image: [1, 2] as never, height: 1, width: 1, channels: 2 }),
      'flipHorizontal',
      'image',
    );
  });
});

describeWithBackends('augmentImages', () => {
  const dataset = {
    ...randomDataset({ count: 4, height: 3, width: 3, channels: 2, numClasses: 2 }),
    images: new Uint8Array(72),
  };
  dataset.images.set(image, 18); // row 1 holds the known image

  it('matches crop then flip then (x/255 − mean)/std for explicit choices', () => {
    const normalize = { mean: [0.5, 0.25], std: [0.5, 0.2] };
    const plan = { padding: 1, top: Int32Array.of(0, 2), left: Int32Array.of(2, 1), flip: Uint8Array.of(1, 0) };
    const out = augmentImages({ dataset, positions: Int32Array.of(1, 1), normalize, plan });
    const cropped = cropWithPadding({ image, height: 3, width: 3, channels: 2, padding: 1, top: 0, left: 2 });
    const first = flipHorizontal({ image: cropped, height: 3, width: 3, channels: 2 });
    const second = cropWithPadding({ image, height: 3, width: 3, channels: 2, padding: 1, top: 2, left: 1 });
    const expected = [...first, ...second].map((v, i) => (v / 255 - normalize.mean[i % 2]!) / normalize.std[i % 2]!);
    expectArraysClose(out, expected, { rtol: 1e-6, atol: 1e-6 });
  });

  it('maps pixels to x/255 without augmentation or normalisation', () => {
    const out = augmentImages({ dataset, positions: Int32Array.of(1) });
    expectArraysClose(
      out,
      [...image].map((v) => v / 255),
    );
  });

  it('is deterministic under a seed and varies across seeds', () => {
    const cifar = randomDataset({ count: 8, height: 32, width: 32, channels: 3, numClasses: 10 });
    const run = (seed: number) =>
      augmentImages({ dataset: cifar, augment: CIFAR_AUGMENTATION, normalize: CIFAR100_NORMALIZATION, seed });
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('draws offsets in [0, 2·padding] and flips about half the time', () => {
    const plan = planAugmentation({ count: 4000, augment: CIFAR_AUGMENTATION, random: new Random({ seed: 1 }) });
    expect(Math.min(...plan.top)).toBe(0);
    expect(Math.max(...plan.left)).toBe(8);
    const flips = plan.flip.reduce((a, b) => a + b, 0);
    expect(Math.abs(flips - 2000)).toBeLessThan(150);
  });

  it('rejects bad options', () => {
    expectThrowsWith(() => augmentImages({ dataset, augment: CIFAR_AUGMENTATION }), 'augmentImages', 'seed');
    expectThrowsWith(
      () => augmentImages({ dataset, augment: { rotate: 1 } as never, seed: 1 }),
      'augmentImages',
      'rotate',
      'randomCrop',
    );
    expectThrowsWith(
      () => augmentImages({ dataset, augment: { randomCrop: { padding: -1 } }, seed: 1 }),
      'augmentImages',
      'padding',
    );
    expectThrowsWith(
      () => augmentImages({ dataset, normalize: { mean: [0.5], std: [0.5] } }),
      'augmentImages',
      'normalize',
      '2 means',
    );
    expectThrowsWith(
      () => augmentImages({ dataset, normalize: { mean: [0.5, 0.5], std: [0.5, 0] } }),
      'augmentImages',
      'std[1]',
    );
    expectThrowsWith(() => augmentImages({ dataset, positions: Int32Array.of(4) }), 'augmentImages', 'positions[0]');
    const plan = { padding: 1, top: Int32Array.of(3), left: Int32Array.of(0), flip: Uint8Array.of(0) };
    expectThrowsWith(
      () => augmentImages({ dataset, positions: Int32Array.of(0), plan }),
      'augmentImages',
      'plan.top[0]',
    );
  });
});

describeWithBackends('augmentBatchInto', () => {
  // Two rows: row 0 all zeros, row 1 the known image; the job takes row 1 shifted and mirrored, then row 0.
  const source = { images: new Uint8Array(36), height: 3, width: 3, channels: 2 };
  source.images.set(image, 18);
  const job = {
    rows: Int32Array.of(1, 0),
    padding: 1,
    top: Int32Array.of(0, 1),
    left: Int32Array.of(2, 1),
    flip: Uint8Array.of(1, 0),
    scale: Float32Array.of(0.5, 2),
    bias: Float32Array.of(-1, 3),
  };

  it('writes crop, flip and x·scale_c + bias_c per sample from one options object', () => {
    const out = new Float32Array(2 * 18);
    augmentBatchInto({ source, job, out });
    // Sample 0 by hand: output (y, x) reads source (y − 1, 2 − x + 1) (flip, then shift sx = +1), or padding.
    const expected: number[] = [];
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 2; c++) {
          const sy = y - 1,
            sx = 2 - x + 1;
          const pixel = sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? at(sy, sx, c) : 0;
          expected.push(pixel * [0.5, 2][c]! + [-1, 3][c]!);
        }
    // Sample 1: row 0 is all zeros and the offset is the centre: bias_c everywhere.
    for (let p = 0; p < 9; p++) expected.push(-1, 3);
    expectArraysClose(out, expected, { rtol: 1e-6, atol: 1e-6 });
  });

  it('rejects unknown keys, out-of-range rows and a short output, naming the option', () => {
    const out = new Float32Array(36);
    expectThrowsWith(() => augmentBatchInto({ source, job, out, ouput: out } as never), 'augmentBatchInto', "'ouput'");
    const withJob = (change: Partial<typeof job>) => () =>
      augmentBatchInto({ source, job: { ...job, ...change }, out });
    expectThrowsWith(withJob({ rows: Int32Array.of(2, 0) }), 'augmentBatchInto', 'options.job.rows[0] = 2');
    expectThrowsWith(withJob({ top: Int32Array.of(3, 0) }), 'augmentBatchInto', 'options.job.top[0] = 3');
    expectThrowsWith(withJob({ scale: Float32Array.of(1) }), 'augmentBatchInto', 'options.job.scale');
    const short = () => augmentBatchInto({ source, job, out: new Float32Array(35) });
    expectThrowsWith(short, 'augmentBatchInto', 'options.out', '36');
  });
});
