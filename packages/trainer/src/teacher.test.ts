import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { syntheticDataset, tinyModel } from '../test/fixtures';
import { MemoryStore } from './io/store';
import { trainTeacher } from './teacher';

describeWithBackends('trainTeacher', () => {
  it('learns the synthetic problem and writes checkpoint, metrics log, run record and plot', async () => {
    const model = tinyModel({ seed: 1 });
    const store = new MemoryStore();
    const result = await trainTeacher({
      model,
      data: { train: syntheticDataset({ count: 128, seed: 1 }), test: syntheticDataset({ count: 64, seed: 2 }) },
      epochs: 4,
      batchSize: 16,
      learningRate: 0.1,
      schedule: { kind: 'cosine' },
      augmentation: false,
      store,
      progress: false,
    });
    expect(result.history).toHaveLength(4);
    expect(result.last.test!.top1).toBeGreaterThan(0.9);
    expect(result.history[3]!.train.losses.ce).toBeLessThan(result.history[0]!.train.losses.ce!);
    expect(result.last.test!.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(64);
    const lines = store.text('metrics.jsonl')!.trim().split('\n');
    expect(lines).toHaveLength(4);
    const record = JSON.parse(store.text('run.json')!);
    expect(record.status).toBe('finished');
    expect(record.backend).toBe(tf.getBackend());
    expect(record.tfjsVersion).toBe(tf.version_core);
    expect(record.last.epoch).toBe(4);
    const png = store.files.get('curves.png')!;
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    expect(store.files.has('checkpoint-4.bin')).toBe(true);
    expect(store.files.has('checkpoint-3.bin')).toBe(false);
    model.dispose();
  });
});
