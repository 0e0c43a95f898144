/**
 * Smoke tests: every command runs one or two optimiser steps on generated data in the real CIFAR-100 / CIFAR-10 /
 * STL-10 binary formats, on the cpu backend, writes its run record, and a second invocation skips or resumes.
 * The tiny `smoke-cnn` stands in for resnet8 (see smoke-model.ts for why).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodePng } from '@kd/plot';
import { createModel } from '@kd/models';
import { saveSafetensorsFile } from '@kd/models/node';
import { TrainingAbortedError } from '@kd/trainer';
import { describeWithBackends } from '@kd/test-utils';
import type { CommandOutcome } from './commands/shared';
import type { SweepStep } from './commands/sweep';
import { writeTinyDatasets } from './fixtures';
import { interruptHandler, runCommandLine } from './main';
import { SMOKE_MODEL, registerSmokeModel } from './smoke-model';

let root = '';
let dataDir = '';
let outDir = '';
const messages: string[] = [];
const log = (message: string) => messages.push(message);

/** The flags every smoke run shares: cpu, 16 training images in batches of 8 (two steps), 8 test images. */
function flags(...extra: string[]): string[] {
  return [
    '--data-dir',
    dataDir,
    '--out-dir',
    outDir,
    '--backend',
    'cpu',
    '--quiet',
    '--limit-train',
    '16',
    '--limit-test',
    '8',
    '--batch-size',
    '8',
    '--epochs',
    '1',
    ...extra,
  ];
}

const models = ['--teacher-model', SMOKE_MODEL, '--student-model', SMOKE_MODEL];

async function run(argv: string[]): Promise<CommandOutcome> {
  return (await runCommandLine(argv, { log })) as CommandOutcome;
}

function record(directory: string): {
  status: string;
  epochsCompleted: number;
  resumedFromEpochs: number[];
  config: Record<string, unknown>;
} {
  return JSON.parse(readFileSync(join(directory, 'run.json'), 'utf8'));
}

function metricLines(directory: string): number {
  return readFileSync(join(directory, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
}

beforeAll(() => {
  registerSmokeModel();
  root = mkdtempSync(join(tmpdir(), 'kd-cifar100-'));
  dataDir = join(root, 'data');
  outDir = join(root, 'runs');
  writeTinyDatasets(dataDir, { train: 24, test: 8 });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describeWithBackends('kd-cifar100 commands', () => {
  it('train-teacher trains, writes its run files and final weights, then skips when finished', async () => {
    const outcome = await run(['train-teacher', '--preset', 'tiny', ...flags(...models)]);
    expect(outcome.skipped).toBe(false);
    expect(outcome.runDirectory).toBe(join(outDir, `teacher-cifar100-${SMOKE_MODEL}`));
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    expect(saved.epochsCompleted).toBe(1);
    expect(saved.config.trainSize).toBe(16);
    expect(saved.config.testSize).toBe(8);
    expect(outcome.result?.last.train.count).toBe(16);
    for (const file of ['metrics.jsonl', 'curves.png', 'model/model.json', 'model/weights.bin']) {
      expect(existsSync(join(outcome.runDirectory, file)), file).toBe(true);
    }
    expect(metricLines(outcome.runDirectory)).toBe(1);
    const again = await run(['train-teacher', '--preset', 'tiny', ...flags(...models)]);
    expect(again.skipped).toBe(true);
    expect(metricLines(outcome.runDirectory)).toBe(1);
  });

  it('an unfinished run continues from its checkpoint instead of starting over', async () => {
    const directory = join(outDir, `teacher-cifar100-${SMOKE_MODEL}`);
    // As if the process died after the epoch's checkpoint but before the run was marked finished.
    const interrupted = { ...record(directory), status: 'running' };
    writeFileSync(join(directory, 'run.json'), JSON.stringify(interrupted));
    rmSync(join(directory, 'model'), { recursive: true });
    const outcome = await run(['train-teacher', '--preset', 'tiny', ...flags(...models)]);
    expect(outcome.skipped).toBe(false);
    const saved = record(directory);
    expect(saved.status).toBe('finished');
    expect(saved.resumedFromEpochs).toEqual([1]);
    expect(metricLines(directory)).toBe(1); // no epoch was trained twice
    expect(existsSync(join(directory, 'model', 'model.json'))).toBe(true);
  });

  it('an aborted run (Ctrl-C) keeps its checkpoint and the same command continues it', async () => {
    const argv = [
      'train-teacher',
      '--preset',
      'tiny',
      '--run-name',
      'interrupted',
      ...flags(...models),
      '--epochs',
      '3',
    ];
    const directory = join(outDir, 'interrupted');
    const controller = new AbortController();
    // Abort as soon as the first epoch is logged; the trainer stops before its next step.
    const poll = setInterval(() => {
      if (existsSync(join(directory, 'metrics.jsonl'))) controller.abort();
    }, 2);
    try {
      await expect(runCommandLine(argv, { log, signal: controller.signal })).rejects.toThrow(TrainingAbortedError);
    } finally {
      clearInterval(poll);
    }
    const stopped = record(directory);
    expect(stopped.status).toBe('aborted');
    expect(stopped.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(stopped.epochsCompleted).toBeLessThan(3);
    expect(existsSync(join(directory, 'model'))).toBe(false);
    const outcome = await run(argv);
    expect(outcome.skipped).toBe(false);
    const saved = record(directory);
    expect(saved.status).toBe('finished');
    expect(saved.epochsCompleted).toBe(3);
    expect(saved.resumedFromEpochs).toEqual([stopped.epochsCompleted]);
    expect(metricLines(directory)).toBe(3);
  });

  it('a second Ctrl-C marks the run aborted in run.json synchronously, then exits with 130', async () => {
    const argv = [
      'train-teacher',
      '--preset',
      'tiny',
      '--run-name',
      'twice-interrupted',
      ...flags(...models),
      '--epochs',
      '3',
    ];
    const directory = join(outDir, 'twice-interrupted');
    const controller = new AbortController();
    const exits: number[] = [];
    const written: string[] = [];
    const handler = interruptHandler({
      controller,
      exit: (code) => exits.push(code),
      write: (text) => written.push(text),
    });
    let statusAfterSecond: string | undefined;
    // Both Ctrl-Cs while the trainer runs (run.json says 'running'); the file is read right after the second one,
    // before any promise of the run could settle.
    const poll = setInterval(() => {
      if (
        statusAfterSecond !== undefined ||
        !existsSync(join(directory, 'run.json')) ||
        record(directory).status !== 'running'
      )
        return;
      handler();
      handler();
      statusAfterSecond = record(directory).status;
    }, 2);
    try {
      await expect(runCommandLine(argv, { log, signal: controller.signal })).rejects.toThrow(TrainingAbortedError);
    } finally {
      clearInterval(poll);
    }
    expect(statusAfterSecond).toBe('aborted');
    expect(exits).toEqual([130]);
    expect(written[1]).toBe(`\n${directory}: marked aborted; rerun the same command to continue\n`);
    expect(record(directory)).toMatchObject({ status: 'aborted' });
    // With no run in progress the second Ctrl-C just exits.
    handler();
    expect(exits).toEqual([130, 130]);
    expect(written).toHaveLength(2);
  });

  it('a finished run whose model/ is truncated is not skipped: its weights are written again from the checkpoint', async () => {
    const directory = join(outDir, `teacher-cifar100-${SMOKE_MODEL}`);
    const weights = join(directory, 'model', 'weights.bin');
    const good = readFileSync(weights);
    expect(record(directory).status).toBe('finished');
    for (const damage of [
      (bytes: Buffer) => bytes.subarray(0, bytes.length - 8),
      (bytes: Buffer) => Buffer.concat([bytes, Buffer.of(0)]),
    ]) {
      writeFileSync(weights, damage(good));
      messages.length = 0;
      const outcome = await run(['train-teacher', '--preset', 'tiny', ...flags(...models)]);
      expect(outcome.skipped).toBe(false);
      expect(
        messages.some(
          (message) =>
            message.includes('finished, but its final weights are unusable') && message.includes('weights.bin'),
        ),
      ).toBe(true);
      expect(readFileSync(weights).equals(good)).toBe(true);
      expect(metricLines(directory)).toBe(1); // nothing was trained again
    }
    rmSync(join(directory, 'model', 'model.json'));
    expect((await run(['train-teacher', '--preset', 'tiny', ...flags(...models)])).skipped).toBe(false);
    expect((await run(['train-teacher', '--preset', 'tiny', ...flags(...models)])).skipped).toBe(true);
  });

  it('--resume without a checkpoint is an error naming the run', async () => {
    await expect(
      run(['train-teacher', '--preset', 'tiny', '--run-name', 'fresh', '--resume', ...flags(...models)]),
    ).rejects.toThrow(/no checkpoint/);
  });

  it('finetune-mcmi fine-tunes the trained teacher with CE − λ·CMI and logs the teacher CMI', async () => {
    const outcome = await run(['finetune-mcmi', '--preset', 'tiny', '--allow-collapse', ...flags(...models)]);
    expect(outcome.runDirectory).toBe(join(outDir, `mcmi-cifar100-${SMOKE_MODEL}-lambda0.25`));
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    expect(saved.config.lambda).toBe(0.25);
    expect(Number.isFinite(outcome.result?.last.extra.teacherCmi)).toBe(true);
    expect(Object.keys(outcome.result?.last.train.losses ?? {}).sort()).toEqual(['ce', 'cmi', 'total']);
    expect((await run(['finetune-mcmi', '--preset', 'tiny', '--allow-collapse', ...flags(...models)])).skipped).toBe(
      true,
    );
  });

  it('distill trains a student from the MCMI teacher with 0.1·CE + 0.9·KD', async () => {
    const outcome = await run(['distill', '--preset', 'tiny', ...flags(...models)]);
    expect(outcome.runDirectory).toBe(
      join(outDir, `distill-${SMOKE_MODEL}-kd-from-mcmi-cifar100-${SMOKE_MODEL}-lambda0.25`),
    );
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    expect(saved.config.objectives).toEqual([
      { method: 'ce', weight: 0.1, options: {} },
      { method: 'kd', weight: 0.9, options: { temperature: 4 } },
    ]);
    expect((await run(['distill', '--preset', 'tiny', ...flags(...models)])).skipped).toBe(true);
  });

  it('few-shot trains on the first fraction of the data with epochs as long as the full set', async () => {
    // The teacher given by its directory rather than its run name.
    const teacher = join(outDir, `teacher-cifar100-${SMOKE_MODEL}`);
    const outcome = await run([
      'few-shot',
      '--preset',
      'tiny',
      '--fraction',
      '0.5',
      '--teacher',
      teacher,
      ...flags(...models),
    ]);
    expect(outcome.runDirectory).toBe(
      join(outDir, `few-shot50-${SMOKE_MODEL}-kd-from-teacher-cifar100-${SMOKE_MODEL}`),
    );
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    expect(saved.config.trainSize).toBe(8);
    expect(saved.config.epochLength).toBe(16);
    expect(outcome.result?.last.train.count).toBe(16);
  });

  it('distill and finetune-mcmi take a PyTorch checkpoint as --teacher (architecture from --teacher-model)', async () => {
    const source = createModel(SMOKE_MODEL, { numClasses: 100, seed: 7 });
    const checkpoint = join(root, 'published', 'smoke_teacher.safetensors');
    mkdirSync(join(root, 'published'), { recursive: true });
    await saveSafetensorsFile(source, checkpoint);
    source.dispose();
    const outcome = await run(['distill', '--preset', 'tiny', '--teacher', checkpoint, ...flags(...models)]);
    expect(outcome.runDirectory).toBe(join(outDir, `distill-${SMOKE_MODEL}-kd-from-smoke_teacher.safetensors`));
    expect(record(outcome.runDirectory).status).toBe('finished');
    const tuned = await run([
      'finetune-mcmi',
      '--preset',
      'tiny',
      '--allow-collapse',
      '--teacher',
      checkpoint,
      '--run-name',
      'mcmi-from-file',
      ...flags(...models),
    ]);
    expect(record(tuned.runDirectory).status).toBe('finished');
    // Another architecture than the checkpoint's: the loader's error, naming the file and a key.
    await expect(
      run([
        'distill',
        '--preset',
        'tiny',
        '--teacher',
        checkpoint,
        '--run-name',
        'wrong',
        ...flags('--teacher-model', 'resnet8', '--student-model', SMOKE_MODEL),
      ]),
    ).rejects.toThrow(
      `distill: loadTorchCheckpoint: ${checkpoint}: checkpoint into resnet8: conv1.weight is [4, 3, 3, 3], the model wants [16, 3, 3, 3]`,
    );
  });

  it('zero-shot trains a CIFAR-10 student that never sees the omitted classes', async () => {
    const teacher = await run(['train-teacher', '--preset', 'zero-shot-9-7', ...flags(...models)]);
    expect(teacher.runDirectory).toBe(join(outDir, `teacher-cifar10-${SMOKE_MODEL}`));
    const outcome = await run(['zero-shot', '--preset', 'zero-shot-9-7', '--teacher-kind', 'mll', ...flags(...models)]);
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    // Per-batch masking: the loader goes over all 16 samples; labels are (7·i) mod 10 for i < 16, so classes 9
    // and 7 (i = 7 and i = 1, 11) are dropped inside the batches and the student trains on 13 samples.
    expect(saved.config.trainSize).toBe(16);
    expect(outcome.result?.last.train.count).toBe(13);
    const omitted = await run([
      'zero-shot',
      '--preset',
      'zero-shot-9-7',
      '--teacher-kind',
      'mll',
      '--zero-shot-protocol',
      'omit-samples',
      '--run-name',
      'omit',
      ...flags(...models),
    ]);
    expect(record(omitted.runDirectory).config.trainSize).toBe(13);
    expect(omitted.result?.last.train.count).toBe(13);
    expect(messages.some((message) => message.startsWith('zero-shot: test accuracy on the omitted classes'))).toBe(
      true,
    );
  });

  it('transfer trains only a new linear layer on STL-10 resized to 32×32', async () => {
    const outcome = await run(['transfer', '--preset', 'tiny', '--target', 'stl10', ...flags(...models)]);
    const saved = record(outcome.runDirectory);
    expect(saved.status).toBe('finished');
    const model = saved.config.model as { name: string; numClasses: number; variableShapes: number[][] };
    expect(model.name).toBe(`${SMOKE_MODEL}-linear-probe`);
    expect(model.numClasses).toBe(10);
    // The first two shapes are the trainable ones: W [8, 10] and b [10].
    expect(model.variableShapes.slice(0, 2)).toEqual([[8, 10], [10]]);
    expect((await run(['transfer', '--preset', 'tiny', '--target', 'stl10', ...flags(...models)])).skipped).toBe(true);
  });

  it('eigencam writes one grid row per checkpoint and one column per image', async () => {
    const argv = [
      'eigencam',
      '--preset',
      'tiny',
      '--images',
      '3',
      '--data-dir',
      dataDir,
      '--out-dir',
      outDir,
      '--backend',
      'cpu',
      ...models,
    ];
    const outcome = await run(argv);
    expect(record(outcome.runDirectory).status).toBe('finished');
    const png = decodePng(new Uint8Array(readFileSync(join(outcome.runDirectory, 'eigencam.png'))));
    // 3 rows (MLL teacher, MCMI teacher, student) × 3 columns of 128-pixel cells, plus labels and padding.
    expect(png.width).toBeGreaterThan(3 * 128);
    expect(png.height).toBeGreaterThan(3 * 128);
    expect(png.height).toBeLessThan(4 * 128);
    expect((await run(argv)).skipped).toBe(true);
  });

  it('sweep --presets tiny runs through on fresh runs without --allow-collapse (near-chance teacher)', async () => {
    // 256 random images of 100 classes: the teacher stays near chance (1%), as the real `tiny` preset's does.
    const sweepData = join(root, 'sweep-data');
    writeTinyDatasets(sweepData, { train: 256, test: 8 });
    const sweepFlags = [
      '--data-dir',
      sweepData,
      '--out-dir',
      join(root, 'sweep-runs'),
      '--backend',
      'cpu',
      '--quiet',
      '--limit-train',
      '256',
      '--limit-test',
      '8',
      '--batch-size',
      '32',
      '--epochs',
      '1',
      ...models,
    ];
    const steps = (await runCommandLine(['sweep', '--presets', 'tiny', ...sweepFlags], { log })) as SweepStep[];
    expect(steps.map((step) => [step.command, step.error ?? null])).toEqual([
      ['train-teacher', null],
      ['finetune-mcmi', null],
      ['distill', null],
    ]);
    expect(steps.every((step) => step.outcome?.skipped === false)).toBe(true);
    expect(record(steps[1]!.outcome!.runDirectory).status).toBe('finished');
  });

  it("sweep runs each preset's pipeline and skips finished runs", async () => {
    const steps = (await runCommandLine(['sweep', '--presets', 'tiny', ...flags(...models)], { log })) as SweepStep[];
    expect(steps.map((step) => step.command)).toEqual(['train-teacher', 'finetune-mcmi', 'distill']);
    expect(steps.every((step) => step.outcome?.skipped === true)).toBe(true);
  });
});
