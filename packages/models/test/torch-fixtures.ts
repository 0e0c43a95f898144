/**
 * The PyTorch-made fixtures (src/__fixtures__/torch, written by scripts/make-torch-fixtures.py): manifest,
 * gunzipped bytes, and the logits comparison the checkpoint tests share.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tf } from '@kd/test-utils';
import { expect } from 'vitest';
import type { ZooModel } from '../src/zoo-model';

const fixtures = join(__dirname, '..', 'src', '__fixtures__', 'torch');

export interface Manifest {
  input: { shape: [number, number, number, number]; values: number[] };
  numClasses: number;
  models: Record<
    string,
    { parameters: number; files: Record<string, { file: string; dtype: string }>; logits: number[] }
  >;
}

export const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as Manifest;

export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(fixtures, file))));
}

/** Logits of `model` in inference mode on the manifest's NCHW input (transposed to NHWC). */
export function fixtureLogits(model: ZooModel): Float32Array {
  return tf.tidy(() => {
    const input = tf.transpose(tf.tensor4d(manifest.input.values, manifest.input.shape), [0, 2, 3, 1]) as tf.Tensor4D;
    return model.apply(input, { training: false }).logits.dataSync() as Float32Array;
  });
}

/** max |a − b| ≤ 1e-4 · max |b|: 1e-4 relative to the logits' scale. */
export function expectLogitsMatch(actual: ArrayLike<number>, expected: readonly number[], label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let index = 0; index < expected.length; index++)
    worst = Math.max(worst, Math.abs((actual[index] as number) - (expected[index] as number)));
  expect(worst / scale, `${label}: max difference ${worst} at logit scale ${scale}`).toBeLessThanOrEqual(1e-4);
}
