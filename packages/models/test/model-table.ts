/**
 * The acceptance table of the issue: trainable parameters for 100 and 10 classes and the feature shapes
 * (C×H×W as the reference reports them; the models return NHWC) for a 32×32 input.
 */
import { tf } from '@kd/test-utils';
import { expect } from 'vitest';
import { createModel } from '../src/registry';

export interface TableRow {
  params100: number;
  params10: number;
  /** C,H,W per spatial feature, C for the pooled vector. */
  features: string;
  /** The preactivations in the same notation, when they are not the stage entries `features[1:-1]` (mlp). */
  preact?: string;
}

export const modelTable: Record<string, TableRow> = {
  resnet8: { params100: 83_892, params10: 78_042, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet14: { params100: 181_108, params10: 175_258, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet20: { params100: 278_324, params10: 272_474, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet32: { params100: 472_756, params10: 466_906, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet44: { params100: 667_188, params10: 661_338, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet56: { params100: 861_620, params10: 855_770, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet110: { params100: 1_736_564, params10: 1_730_714, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  resnet8x4: { params100: 1_233_540, params10: 1_210_410, features: '32x32x32, 64x32x32, 128x16x16, 256x8x8, 256' },
  resnet32x4: { params100: 7_433_860, params10: 7_410_730, features: '32x32x32, 64x32x32, 128x16x16, 256x8x8, 256' },
  resnet50: {
    params100: 23_705_252,
    params10: 23_520_842,
    features: '64x32x32, 256x32x32, 512x16x16, 1024x8x8, 2048x4x4, 2048',
  },
  wrn16_1: { params100: 180_916, params10: 175_066, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  wrn16_2: { params100: 703_284, params10: 691_674, features: '16x32x32, 32x32x32, 64x16x16, 128x8x8, 128' },
  wrn40_1: { params100: 569_780, params10: 563_930, features: '16x32x32, 16x32x32, 32x16x16, 64x8x8, 64' },
  wrn40_2: { params100: 2_255_156, params10: 2_243_546, features: '16x32x32, 32x32x32, 64x16x16, 128x8x8, 128' },
  vgg8: { params100: 3_965_028, params10: 3_918_858, features: '64x32x32, 128x16x16, 256x8x8, 512x4x4, 512x4x4, 512' },
  vgg11: { params100: 9_277_284, params10: 9_231_114, features: '64x32x32, 128x16x16, 256x8x8, 512x4x4, 512x4x4, 512' },
  vgg13: { params100: 9_462_180, params10: 9_416_010, features: '64x32x32, 128x16x16, 256x8x8, 512x4x4, 512x4x4, 512' },
  vgg16: {
    params100: 14_774_436,
    params10: 14_728_266,
    features: '64x32x32, 128x16x16, 256x8x8, 512x4x4, 512x4x4, 512',
  },
  vgg19: {
    params100: 20_086_692,
    params10: 20_040_522,
    features: '64x32x32, 128x16x16, 256x8x8, 512x4x4, 512x4x4, 512',
  },
  mobilenetv2: { params100: 812_836, params10: 697_546, features: '16x16x16, 12x16x16, 16x8x8, 48x4x4, 160x2x2, 1280' },
  shufflev1: { params100: 949_258, params10: 862_768, features: '24x32x32, 240x16x16, 480x8x8, 960x4x4, 960' },
  shufflev2: { params100: 1_355_528, params10: 1_263_278, features: '24x32x32, 116x16x16, 232x8x8, 464x4x4, 1024' },
  // 3072·256 + 256 + 256·256 + 256 + 256·C + C.
  mlp: { params100: 878_180, params10: 855_050, features: '256, 256', preact: '256, 256' },
};

/** The table's C×H×W shapes as NHWC shapes for a batch of `batch`. */
export function expectedFeatureShapes(
  name: string,
  batch: number,
  column: 'features' | 'preact' = 'features',
): number[][] {
  const row = modelTable[name];
  if (row === undefined) throw new Error(`no table row for ${name}`);
  const shapes = column === 'features' ? row.features : row.preact;
  if (shapes === undefined) return expectedFeatureShapes(name, batch).slice(1, -1);
  return shapes.split(',').map((entry) => {
    const [channels, height, width] = entry.trim().split('x').map(Number) as [number, number?, number?];
    return height === undefined ? [batch, channels] : [batch, height, width as number, channels];
  });
}

/**
 * Checks a table row: the parameter counts for 100 and 10 classes, then the logits, feature and preact
 * shapes of one inference pass on a 1-image 32×32 batch, and (with `training`) of one training pass on a
 * 2-image batch.
 */
export function expectModelTableRow(name: string, { training }: { training: boolean }): void {
  const row = modelTable[name] as TableRow;
  const model100 = createModel(name, { numClasses: 100, seed: 1 });
  expect(model100.countParams(), `${name} params, 100 classes`).toBe(row.params100);
  model100.dispose();

  const model = createModel(name, { numClasses: 10, seed: 1 });
  try {
    expect(model.countParams(), `${name} params, 10 classes`).toBe(row.params10);
    const modes = training ? [false, true] : [false];
    for (const mode of modes) {
      const batch = mode ? 2 : 1;
      const expected = expectedFeatureShapes(name, batch);
      const images = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const output = model.apply(images, { training: mode });
      try {
        expect(output.logits.shape).toEqual([batch, 10]);
        expect(output.features.map((feature) => feature.shape)).toEqual(expected);
        expect(output.preactivations.map((feature) => feature.shape)).toEqual(
          expectedFeatureShapes(name, batch, 'preact'),
        );
        // The named features are the positional list's tensors: [stem, ...stages, pooled].
        expect(2 + output.stages.length).toBe(output.features.length);
        expect(
          output.features.every((feature, index) => feature === [output.stem, ...output.stages, output.pooled][index]),
          `${name} named features`,
        ).toBe(true);
        expect(output.pooled!.rank).toBe(2);
        const finite = tf.tidy(() => tf.all(tf.isFinite(output.logits)).dataSync()[0]);
        expect(finite, `${name} logits finite`).toBe(1);
      } finally {
        tf.dispose([images, output.logits, ...output.features, ...output.preactivations]);
      }
    }
  } finally {
    model.dispose();
  }
}
