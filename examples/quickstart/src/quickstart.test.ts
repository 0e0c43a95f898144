import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '@kd/cam';
import { selectBackend } from '@kd-example/common';
import { tf } from '@kd/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, trainAndEvaluate, type QuickstartConfig } from './quickstart';

const dataDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'data');

// The example's own backend (wasm + @kd/wasm-training's kernels): the pure-JS cpu backend needs minutes for even
// this tiny run's convolution gradients. The packages' unit tests are what run on cpu.
describe('quickstart smoke test [wasm]', () => {
  let outDir = '';
  let config: QuickstartConfig;
  let tensorsBefore = 0;
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm', log: () => undefined });
    tensorsBefore = tf.memory().numTensors;
    outDir = await mkdtemp(join(tmpdir(), 'kd-quickstart-'));
    config = {
      ...defaultConfig,
      dataDir,
      outDir,
      trainSize: 32,
      testSize: 16,
      teacher: 'resnet8',
      student: 'resnet8',
      teacherEpochs: 1,
      mcmiEpochs: 1,
      studentEpochs: 1,
      batchSize: 16,
      camImages: 3,
      progress: false,
    };
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
    await tf.setBackend('cpu');
  });

  it('trains both teachers and both students, prints the table and writes the pictures', async () => {
    const result = await trainAndEvaluate(config);
    // resnet8 for 10 classes has 78,042 parameters with 3 input channels; one channel removes 2·3·3·16 = 288.
    expect(result.parameters).toEqual({ teacher: 77_754, student: 77_754 });
    expect(result.rows.map((row) => row.teacher)).toEqual(['MLL (cross-entropy)', 'MCMI (λ = 0.25)']);
    for (const row of result.rows) {
      for (const value of [row.teacherAccuracy, row.studentAccuracy, row.studentBestAccuracy]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        expect(Math.round(value * 16)).toBeCloseTo(value * 16, 6); // a fraction of the 16 test images
      }
      expect(row.teacherCmi).toBeGreaterThanOrEqual(0);
    }
    expect(result.table.split('\n')).toHaveLength(4);
    const cam = decodePng(new Uint8Array(await readFile(join(outDir, 'eigencam-teachers.png'))));
    const curves = decodePng(new Uint8Array(await readFile(join(outDir, 'curves.png'))));
    expect(cam.width).toBeGreaterThan(3 * (3 * 28));
    expect(cam.height).toBeGreaterThan(3 * (3 * 28));
    expect([curves.width, curves.height]).toEqual([640, 400]);
    expect((await readdir(outDir)).sort()).toEqual(
      ['curves.png', 'eigencam-teachers.png', 'student-kd-from-mcmi', 'student-kd-from-mll', 'teacher-mcmi-lambda0.25', 'teacher-mll'],
    );

    // A second invocation resumes every finished run from its checkpoint: same numbers, no retraining.
    const again = await trainAndEvaluate(config);
    expect(again.rows).toEqual(result.rows);
    expect(tf.memory().numTensors, 'tensors left alive by the quick start').toBe(tensorsBefore);
  });
});
