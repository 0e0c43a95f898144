import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@kd-example/common';
import { describeWithBackends, tf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bringYourOwnModel, defaultConfig, type ByomConfig } from './byom';

const dataDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'quickstart', 'data');

// The example's own backend (wasm + @kd/wasm-training's kernels), as the quick start's smoke test.
describeWithBackends(
  'bring-your-own-model smoke test',
  () => {
    let outDir = '';
    let config: ByomConfig;
    let tensorsBefore = 0;
    beforeAll(async () => {
      await selectBackend({ backend: 'wasm', log: () => undefined });
      tensorsBefore = tf.memory().numTensors;
      outDir = await mkdtemp(join(tmpdir(), 'kd-byom-'));
      config = {
        ...defaultConfig,
        dataDir,
        outDir,
        trainSize: 64,
        testSize: 32,
        teacherWidth: 4,
        studentWidth: 2,
        teacherEpochs: 1,
        studentEpochs: 1,
        batchSize: 32,
        backend: 'wasm',
        progress: false,
      };
    });
    afterAll(async () => {
      await rm(outDir, { recursive: true, force: true });
      await tf.setBackend('cpu');
    });

    it('trains the teacher and both students, saves the distilled one and reloads it in a fresh process', async () => {
      const result = await bringYourOwnModel(config);
      // Teacher (width 4): conv1 3·3·1·4 (no bias) + BN γ,β 2·4 + conv2 3·3·4·8 + BN 2·8 + dense 7·7·8·10 + 10.
      // Student (width 2): conv1 3·3·1·2 + 2, conv2 3·3·2·4 + 4, dense 7·7·4·10 + 10.
      expect(result.parameters).toEqual({ teacher: 36 + 8 + 288 + 16 + 3930, student: 20 + 76 + 1970 });
      for (const accuracy of [result.teacherAccuracy, result.aloneAccuracy, result.distilledAccuracy]) {
        expect(accuracy).toBeGreaterThanOrEqual(0);
        expect(accuracy).toBeLessThanOrEqual(1);
      }
      // The fresh process's tf.loadLayersModel predicts what the trained model predicts.
      expect(result.reloadedAccuracy).toBe(result.distilledAccuracy);
      expect(result.reloadDifference).toBeLessThan(1e-6);
      expect((await readdir(result.savedTo)).sort()).toEqual(['model.json', 'weights.bin']);
      expect(result.table.split('\n')).toHaveLength(5);
      expect(result.table).toContain('reloaded in a fresh process');
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  },
  { backends: ['wasm'] },
);
