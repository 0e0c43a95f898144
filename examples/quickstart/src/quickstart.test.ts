import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '@kd/plot';
import { pairedDifference, selectBackend } from '@kd-example/common';
import { describeWithBackends, tf } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  defaultConfig,
  describeDifference,
  summarise,
  trainAndEvaluate,
  type QuickstartConfig,
  type StudentRow,
  type TeacherRow,
} from './quickstart';

const dataDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'data');
const seeds = (values: readonly number[]) => new Map(values.map((value, index) => [index + 1, value]));

describeWithBackends('quickstart summary lines', () => {
  it('call a gap clear only when the paired t exceeds the 95 % critical value', () => {
    // d = 0.05, 0.06, 0.04: mean 0.05, std 0.01, t = 0.05 / (0.01 / √3) = 8.66 > 4.303 (df 2).
    const clear = describeDifference(pairedDifference(seeds([0.85, 0.86, 0.84]), seeds([0.8, 0.8, 0.8])));
    expect(clear).toBe(
      '+5.0 ± 1.0 points (paired over 3 seeds, t = 8.7): larger than the seed-to-seed spread (|t| > 4.30, 95 % two-sided)',
    );
    // d = 0.06, 0, 0.09: mean 0.05, std √0.0021 = 0.0458 < 0.05, t = 1.89 ≤ 4.303.
    const hint = describeDifference(pairedDifference(seeds([0.86, 0.8, 0.89]), seeds([0.8, 0.8, 0.8])));
    expect(hint).toBe(
      '+5.0 ± 4.6 points (paired over 3 seeds, t = 1.9): larger than its spread but not significant with 3 seeds (|t| ≤ 4.30): a hint, not a finding',
    );
    // d = 0.05, −0.05, 0.03: mean 0.01, std 0.0529 > 0.01.
    const none = describeDifference(pairedDifference(seeds([0.85, 0.75, 0.83]), seeds([0.8, 0.8, 0.8])));
    expect(none).toBe(
      '+1.0 ± 5.3 points (paired over 3 seeds, t = 0.3): within the seed-to-seed spread, so no difference is shown at this scale',
    );
  });

  it('word the teacher line from the table numbers', () => {
    const teachers: TeacherRow[] = [
      { role: 'mll', label: 'MLL', testAccuracy: 0.85, cmi: 0.25 },
      { role: 'control', label: 'control', testAccuracy: 0.86, cmi: 0.2 },
      { role: 'mcmi', label: 'MCMI', testAccuracy: 0.855, cmi: 0.23 },
    ];
    const row = (arm: StudentRow['arm'], values: number[]): StudentRow => ({
      arm,
      label: arm,
      accuracyBySeed: seeds(values),
      mean: 0,
      std: 0,
    });
    const students = [
      row('none', [0.7, 0.7, 0.7]),
      row('mll', [0.75, 0.76, 0.74]),
      row('control', [0.75, 0.75, 0.75]),
      row('mcmi', [0.76, 0.74, 0.75]),
    ];
    const [first, second, third] = summarise(teachers, students);
    expect(
      first.startsWith(
        '1. Does a teacher help? KD from the MLL teacher vs the same student without a teacher: +5.0 ± 1.0 points',
      ),
    ).toBe(true);
    // (0.23 − 0.2) / 0.2 = +15 %; 85.5 % − 86 % = −0.5 points.
    expect(second).toBe(
      '2. What does MCMI do to the teacher? CMI 0.2000 → 0.2300 nats (+15.0 % over the λ = 0 control of the same length; the MLL teacher: 0.2500), ' +
        'test accuracy 86.0% → 85.5% (−0.5 points); one teacher each, so there is no spread to compare with.',
    );
    // MCMI − control: 0.01, −0.01, 0: mean 0; MCMI − MLL: 0.01, −0.02, 0.01: mean 0.
    expect(
      third.startsWith(
        '3. Does the MCMI teacher make a better student? KD from MCMI vs KD from the control: +0.0 ± 1.0 points',
      ),
    ).toBe(true);
    expect(third.endsWith('vs KD from MLL: +0.0 points.')).toBe(true);
  });
});

// The example's own backend (wasm + @kd/wasm-training's kernels): the pure-JS cpu backend needs minutes for even
// this tiny run's convolution gradients. The packages' unit tests are what run on cpu.
describeWithBackends(
  'quickstart smoke test',
  () => {
    let outDir = '';
    let config: QuickstartConfig;
    let tensorsBefore = 0;
    const lines: string[] = [];
    beforeAll(async () => {
      await selectBackend({ backend: 'wasm', log: () => undefined });
      tensorsBefore = tf.memory().numTensors;
      outDir = await mkdtemp(join(tmpdir(), 'kd-quickstart-'));
      config = {
        ...defaultConfig,
        dataDir,
        outDir,
        trainSize: 64,
        testSize: 16,
        teacherEpochs: 1,
        fineTuneEpochs: 1,
        studentHiddenSizes: [8],
        studentFraction: 0.25,
        studentEpochs: 2,
        studentEpochLength: 32,
        batchSize: 16,
        camImages: 3,
        log: (line) => lines.push(line),
      };
    });
    afterAll(async () => {
      await rm(outDir, { recursive: true, force: true });
      await tf.setBackend('cpu');
    });

    it('trains the three teachers and every student, prints the table, the three answers and the pictures', async () => {
      const result = await trainAndEvaluate(config);
      // resnet8 for 10 classes, one input channel: 78,042 − 2·3·3·16 = 77,754; mlp 784-8-10: 784·8 + 8 + 8·10 + 10 = 6,370.
      expect(result.parameters).toEqual({ teacher: 77_754, student: 6_370 });
      // 25 % of the 64 images, per class: the stratified draw keeps round(0.25·n_c) ≥ 1 of each class.
      expect(result.studentTrainSize).toBeGreaterThanOrEqual(10);
      expect(result.studentTrainSize).toBeLessThanOrEqual(26);

      expect(result.teachers.map((row) => row.role)).toEqual(['mll', 'control', 'mcmi']);
      for (const row of result.teachers) {
        expect(Math.round(row.testAccuracy * 16)).toBeCloseTo(row.testAccuracy * 16, 6); // a fraction of the 16 test images
        expect(row.cmi).toBeGreaterThan(0);
      }
      // The MLL teacher's CMI is the one both fine-tunes measured before their first step (same weights, same pass).
      const json = JSON.parse(await readFile(result.files.json, 'utf8')) as {
        teachers: TeacherRow[];
        summary: string[];
      };
      expect(json.teachers).toEqual(result.teachers);

      expect(result.students.map((row) => row.arm)).toEqual(['none', 'mll', 'control', 'mcmi']);
      for (const row of result.students) {
        const values = [...row.accuracyBySeed.values()];
        expect([...row.accuracyBySeed.keys()]).toEqual([1, 2, 3]);
        let sum = 0;
        for (const value of values) sum += value;
        const average = sum / values.length;
        let squares = 0;
        for (const value of values) squares += (value - average) ** 2;
        expect(row.mean).toBeCloseTo(average, 12);
        expect(row.std).toBeCloseTo(Math.sqrt(squares / (values.length - 1)), 12);
      }

      // Every row of the table and each of the three answers is printed, and the answers are the table's numbers.
      const table = result.table.split('\n');
      for (const row of result.teachers)
        expect(table).toContain(`| ${row.label} | ${(100 * row.testAccuracy).toFixed(1)}% | ${row.cmi.toFixed(4)} |`);
      for (const row of result.students)
        expect(table).toContain(`| ${row.label} | ${(100 * row.mean).toFixed(1)}% ± ${(100 * row.std).toFixed(1)} |`);
      expect(result.summary).toEqual(summarise(result.teachers, result.students));
      expect(result.summary.map((line) => line.slice(0, 3))).toEqual(['1. ', '2. ', '3. ']);
      for (const line of result.summary) expect(table).toContain(line);
      expect(json.summary).toEqual(result.summary);
      expect(await readFile(result.files.results, 'utf8')).toContain(result.table);

      // One progress line per stage (3 teachers + 4 arms × 3 seeds), each with the whole quick start's ETA.
      const stageLines = lines.filter((line) => /^\[\s*\d+\/15\]/.test(line));
      expect(stageLines).toHaveLength(15);
      for (const line of stageLines) expect(line).toMatch(/elapsed \d+:\d\d · ETA \d+:\d\d$/);

      const cam = decodePng(new Uint8Array(await readFile(result.files.camGrid)));
      const curves = decodePng(new Uint8Array(await readFile(result.files.curves)));
      expect(cam.width).toBeGreaterThan(3 * (3 * 28));
      expect(cam.height).toBeGreaterThan(3 * (3 * 28));
      // Two 640×400 panels side by side (teachers, students) under a title.
      expect(curves.width).toBeGreaterThan(2 * 640);
      expect(curves.height).toBeGreaterThan(400);
      const entries = (await readdir(outDir)).sort();
      expect(entries.filter((name) => !name.startsWith('student-'))).toEqual([
        'curves.png',
        'eigencam-teachers.png',
        'results.json',
        'results.md',
        'teacher-control-lambda0',
        'teacher-mcmi-lambda0.3',
        'teacher-mll',
      ]);
      expect(entries.filter((name) => name.startsWith('student-'))).toHaveLength(12);

      // A second invocation resumes every finished run from its checkpoint: same numbers, no retraining.
      const again = await trainAndEvaluate({ ...config, log: undefined });
      expect(again.teachers).toEqual(result.teachers);
      expect(again.students).toEqual(result.students);
      expect(tf.memory().numTensors, 'tensors left alive by the quick start').toBe(tensorsBefore);
    });
  },
  { backends: ['wasm'] },
);
