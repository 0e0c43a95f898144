import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeWithBackends, randomTensor, tf } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { convNet, kerasSnapshot } from './__fixtures__/models';
import { fileSystem, registerFileSystemRouter } from './node';

describeWithBackends('file:// without tfjs-node', () => {
  const directory = mkdtempSync(join(tmpdir(), 'kd-layers-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("model.save('file://…') then tf.loadLayersModel gives the same weights and predictions; no stray file", async () => {
    registerFileSystemRouter();
    registerFileSystemRouter(); // idempotent: a second router would make tfjs refuse the URL
    const keras = convNet({ name: 'saved', seed: 1 });
    const target = join(directory, 'saved');
    await keras.save(`file://${target}`);
    expect(readdirSync(target).sort()).toEqual(['model.json', 'weights.bin']);
    const reloaded = await tfl.loadLayersModel(`file://${join(target, 'model.json')}`);
    expect(kerasSnapshot(reloaded)).toEqual(kerasSnapshot(keras));
    const images = randomTensor([2, 8, 8, 1], 2);
    const a = tf.tidy(() => (keras.predict(images) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (reloaded.predict(images) as tf.Tensor).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    images.dispose();
    keras.dispose();
    reloaded.dispose();
  });

  it('rejects a truncated weight file, a corrupt model.json and a missing file, naming the file', async () => {
    const keras = convNet({ name: 'broken', seed: 3 });
    const target = join(directory, 'broken');
    await keras.save(fileSystem(target));
    keras.dispose();
    truncateSync(join(target, 'weights.bin'), 100);
    await expect(tfl.loadLayersModel(fileSystem(join(target, 'model.json')))).rejects.toThrow(
      `fileSystem: the weight files of ${join(target, 'model.json')} hold 100 bytes, its manifest describes`,
    );
    writeFileSync(join(target, 'model.json'), '{"modelTopology": ');
    await expect(tfl.loadLayersModel(fileSystem(target))).rejects.toThrow(
      `fileSystem: cannot read ${join(target, 'model.json')}`,
    );
    await expect(tfl.loadLayersModel(fileSystem(join(directory, 'absent')))).rejects.toThrow('fileSystem: cannot read');
    expect(() => fileSystem('')).toThrow('fileSystem: path must be a non-empty string');
  });
});
