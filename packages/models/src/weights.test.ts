import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createModel } from './registry';
import { loadWeights, saveWeights, type WeightArtifacts } from './weights';
import { crc32 } from '@kd/internal';

function logitsOf(model: ReturnType<typeof createModel>, images: tf.Tensor4D): Float32Array {
  const output = model.apply(images, { training: false });
  const values = output.logits.dataSync().slice() as Float32Array;
  tf.dispose([output.logits, ...output.features, ...output.preactivations]);
  return values;
}

describeWithBackends('saveWeights / loadWeights', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round trip: a model loaded with saved weights gives identical logits', async () => {
    const source = createModel('resnet8', { numClasses: 10, seed: 1 });
    const target = createModel('resnet8', { numClasses: 10, seed: 2 });
    const images = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    // One training pass so the BN running statistics differ from their initial values.
    tf.dispose(Object.values(source.apply(images, { training: true })).flat());
    const artifacts = await saveWeights(source);
    expect(artifacts.weightSpecs).toHaveLength(source.namedVariables.length);
    expect(artifacts.weightData.byteLength).toBe(
      4 * source.namedVariables.reduce((n, entry) => n + entry.variable.size, 0),
    );
    // tfjs itself can decode the data.
    const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    const stem = decoded['conv1.weight'] as tf.Tensor;
    expect(Array.from(stem.dataSync())).toEqual(Array.from(source.namedVariables[0]!.variable.dataSync()));
    tf.dispose(Object.values(decoded));

    const before = logitsOf(target, images);
    const expected = logitsOf(source, images);
    expect(Array.from(before)).not.toEqual(Array.from(expected));
    loadWeights(target, artifacts);
    expect(Array.from(logitsOf(target, images))).toEqual(Array.from(expected));
    tf.dispose(images);
    source.dispose();
    target.dispose();
  });

  it('rejects truncated, padded, corrupt and mismatched weights, naming what is wrong, and changes nothing', async () => {
    const model = createModel('resnet8', { numClasses: 10, seed: 1 });
    const artifacts = await saveWeights(model);
    const original = Array.from(model.trainableVariables[0]!.dataSync());
    const variant = (change: Partial<WeightArtifacts>): WeightArtifacts => ({ ...artifacts, ...change });

    expect(() => loadWeights(model, variant({ weightData: artifacts.weightData.slice(0, 1000) }))).toThrow(
      /loadWeights: weight data is truncated: 1000 bytes, the weight specs need \d+/,
    );
    const padded = new Uint8Array(artifacts.weightData.byteLength + 8);
    padded.set(new Uint8Array(artifacts.weightData));
    expect(() => loadWeights(model, variant({ weightData: padded.buffer }))).toThrow(
      /loadWeights: weight data has 8 bytes more than/,
    );

    const flipped = new Uint8Array(artifacts.weightData.slice(0));
    flipped[123] = (flipped[123] as number) ^ 0x10;
    expect(() => loadWeights(model, variant({ weightData: flipped.buffer }))).toThrow(
      /loadWeights: checksum mismatch: weight data has CRC-32 0x[0-9a-f]{8}/,
    );

    const renamed = artifacts.weightSpecs.map((spec) =>
      spec.name === 'fc.bias' ? { ...spec, name: 'fc.offset' } : spec,
    );
    expect(() => loadWeights(model, variant({ weightSpecs: renamed }))).toThrow(
      /loadWeights: .*lack 1 variable\(s\) of model 'resnet8': fc.bias/,
    );

    const wrongDtype = artifacts.weightSpecs.map((spec) =>
      spec.name === 'bn1.weight' ? { ...spec, dtype: 'int32' as const } : spec,
    );
    expect(() => loadWeights(model, variant({ weightSpecs: wrongDtype }))).toThrow(
      /loadWeights: variable 'bn1.weight' has dtype int32 in the weights, model 'resnet8' expects float32/,
    );

    // NaN in the data (with a matching checksum, as a buggy writer would produce).
    const nanData = new Uint8Array(artifacts.weightData.slice(0));
    new DataView(nanData.buffer).setFloat32(0, Number.NaN, true);
    const nanArtifacts = variant({
      weightData: nanData.buffer,
      userDefinedMetadata: { kdModels: { ...artifacts.userDefinedMetadata.kdModels, crc32: crc32(nanData) } },
    });
    expect(() => loadWeights(model, nanArtifacts)).toThrow(
      /loadWeights: variable 'conv1.weight' holds NaN at element 0/,
    );

    // Weights of the 100-class model: the fc shapes mismatch.
    const other = createModel('resnet8', { numClasses: 100, seed: 1 });
    expect(() => loadWeights(model, artifacts)).not.toThrow();
    expect(() => loadWeights(model, { weightSpecs: [], weightData: new ArrayBuffer(0) })).toThrow(
      /lack 47 variable\(s\)/,
    ); // 5 stem + 10 + 15 + 15 per stage + 2 fc
    const otherArtifacts = await saveWeights(other);
    expect(() => loadWeights(model, otherArtifacts)).toThrow(
      /loadWeights: variable 'fc.weight' has shape \[64,100\] in the weights \(saved from 'resnet8'\), model 'resnet8' expects \[64,10\]/,
    );
    // Another architecture: unexpected and missing names.
    const wrn = createModel('wrn16_1', { numClasses: 10, seed: 1 });
    expect(() => loadWeights(wrn, artifacts)).toThrow(
      /loadWeights: .*saved from 'resnet8'.*(lack|does not have|expects)/,
    );
    expect(Array.from(model.trainableVariables[0]!.dataSync())).toEqual(original);
    model.dispose();
    other.dispose();
    wrn.dispose();
  });
});
