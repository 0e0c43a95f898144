/**
 * saveSafetensors writes PyTorch's names, layouts and bytes: a model loaded from a PyTorch checkpoint and
 * saved again reproduces PyTorch's own safetensors tensors byte for byte, and reads back to the same logits.
 */
import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { expectLogitsMatch, fixtureBytes, fixtureLogits, manifest } from '../../test/torch-fixtures';
import { createModel } from '../registry';
import { loadTorchStateDict } from './load';
import { saveSafetensors } from './save';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function parse(bytes: Uint8Array): {
  header: Record<string, HeaderEntry>;
  metadata: Record<string, string>;
  data: Uint8Array;
  headerLength: number;
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  const { __metadata__: metadata, ...header } = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  );
  return { header, metadata, data: bytes.subarray(8 + headerLength), headerLength };
}

describeWithBackends('saveSafetensors', () => {
  it("reproduces PyTorch's safetensors tensors byte for byte (resnet8, float32) and adds num_batches_tracked", async () => {
    const model = createModel('resnet8', { numClasses: 10 });
    const reference = fixtureBytes('resnet8.safetensors.gz');
    loadTorchStateDict(model, reference);
    const saved = parse(await saveSafetensors(model));
    const expected = parse(reference);
    expect(saved.headerLength % 8).toBe(0);
    expect(saved.metadata).toEqual({ format: 'pt', generated_by: '@kd/models', model: 'resnet8' });
    expect(Object.keys(saved.header).sort()).toEqual(Object.keys(expected.header).sort());
    for (const [name, entry] of Object.entries(expected.header)) {
      const mine = saved.header[name] as HeaderEntry;
      expect(mine.shape, name).toEqual(entry.shape);
      if (name.endsWith('num_batches_tracked')) {
        expect(mine.dtype, name).toBe('I64');
        expect(Array.from(saved.data.subarray(...mine.data_offsets)), name).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
        continue;
      }
      expect(mine.dtype, name).toBe('F32');
      expect(
        Buffer.from(saved.data.subarray(...mine.data_offsets)).equals(
          Buffer.from(expected.data.subarray(...entry.data_offsets)),
        ),
        `${name} bytes`,
      ).toBe(true);
    }
    // The data section is exactly covered, in order, with no gaps (what the safetensors reader checks).
    const spans = Object.values(saved.header)
      .map((entry) => entry.data_offsets)
      .sort((a, b) => a[0] - b[0]);
    spans.forEach(([begin], index) => expect(begin).toBe(index === 0 ? 0 : (spans[index - 1] as [number, number])[1]));
    expect((spans[spans.length - 1] as [number, number])[1]).toBe(saved.data.length);
    model.dispose();
  });

  it('round trip: every fixture architecture, saved and loaded into a fresh model, gives the same logits', async () => {
    for (const name of ['resnet8', 'wrn16_2', 'mobilenetv2', 'shufflev2']) {
      const fixture = manifest.models[name];
      if (fixture === undefined) throw new Error(`no fixture ${name}`);
      const source = createModel(name as 'resnet8', { numClasses: manifest.numClasses });
      loadTorchStateDict(source, fixtureBytes(fixture.files.zip?.file as string));
      const target = createModel(name as 'resnet8', { numClasses: manifest.numClasses, seed: 5 });
      const result = loadTorchStateDict(target, await saveSafetensors(source));
      expect(result.format).toBe('safetensors');
      expectLogitsMatch(fixtureLogits(target), fixture.logits, name);
      source.dispose();
      target.dispose();
    }
  });

  it('rejects a model without named variables', async () => {
    await expect(saveSafetensors({ name: 'x' } as never)).rejects.toThrow(
      'saveSafetensors: model must be a KdModel that lists namedVariables (models from createModel do), got object',
    );
  });
});
