/**
 * One training run of the fault-injection test (`fault-injection.test.ts` starts it as a child process):
 *
 *   node --conditions=@kd/source --import tsx test/fault-run.ts <run directory> <weights out> [kill point]
 *
 * It trains the tiny model with `trainSupervised` into `directoryStore(<run directory>)`, resuming when there is
 * a checkpoint, and writes the final weights as JSON to `<weights out>`. With a kill point it SIGKILLs itself
 * there, the first time the run reaches it.
 *
 * The fault points live here, in the test, and nowhere in the library: this process wraps the `node:fs`
 * promise functions the store calls (`FileHandle.prototype.writeFile`/`sync`, `rename`, `appendFile`, `rm`)
 * and publishes the wrappers to ES-module importers with `syncBuiltinESMExports()`. Users' processes never
 * run this file, so the store has no hook to misuse and pays nothing for one. A "partial" point writes the
 * first half of the data to the file, then kills: a torn temp file or log line, as a power cut leaves.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { trainSupervised } from '../src/supervised';
import { directoryStore } from '../src/node';
import { syntheticDataset } from './synthetic-data';
import { tinyModel } from './tiny-model';

tf.env().set('PROD', true);

/** Every kill point: where it fires (the first time the run gets there). */
export const KILL_POINTS = {
  'mid-epoch': 'after step 2 of the first epoch the process trains',
  'checkpoint-binary-torn': 'inside the checkpoint binary write: half the bytes in its temp file',
  'checkpoint-binary-synced': 'the checkpoint binary temp written and fsynced, before its rename',
  'checkpoint-binary-renamed': 'the new binary in place, before the manifest is written',
  'manifest-torn': 'inside the manifest write: half of checkpoint.json in its temp file',
  'manifest-committed': 'the manifest renamed into place, before the previous binary is removed',
  'metrics-torn': 'inside the metrics.jsonl append: half a line written',
  'curves-torn': 'inside the curves.png write: half the PNG in its temp file',
  'record-torn': 'inside the end-of-epoch run.json write: half the JSON in its temp file',
  'record-start-torn': 'inside the run.json write at start-up',
  'metrics-rebuild-torn': 'inside the rewrite of metrics.jsonl from the checkpoint on resume',
} as const;
export type KillPoint = keyof typeof KILL_POINTS;

export const EPOCHS = 4;
export const TRAIN = { count: 48, seed: 61 };
export const MODEL = { seed: 62 };

function die(point: string): never {
  process.stderr.write(`fault-run: killed at ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously; nothing may run after this point.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** Which file a store write targets: the final name, without the `.tmp-<pid>-<hex>` suffix. */
function targetOf(path: unknown): string {
  return basename(String(path)).replace(/\.tmp-\d+-[0-9a-f]+$/, '');
}

function installKillPoint(point: KillPoint): void {
  let startupRecordWritten = false;
  const targets = new WeakMap<object, string>();
  let prototypePatched = false;
  const patchPrototype = (handle: object) => {
    if (prototypePatched) return;
    prototypePatched = true;
    const prototype = Object.getPrototypeOf(handle) as {
      writeFile: (data: Uint8Array | string) => Promise<void>;
      sync: () => Promise<void>;
    };
    const { writeFile, sync } = prototype;
    prototype.writeFile = async function (this: object, data: Uint8Array | string) {
      const target = targets.get(this) ?? '';
      const torn =
        (point === 'checkpoint-binary-torn' && /^checkpoint-\d+\.bin$/.test(target)) ||
        (point === 'manifest-torn' && target === 'checkpoint.json') ||
        (point === 'curves-torn' && target === 'curves.png') ||
        (point === 'metrics-rebuild-torn' && target === 'metrics.jsonl') ||
        (point === 'record-start-torn' && target === 'run.json' && !startupRecordWritten) ||
        (point === 'record-torn' && target === 'run.json' && startupRecordWritten);
      if (target === 'run.json') startupRecordWritten = true;
      if (!torn) return writeFile.call(this, data);
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      await writeFile.call(this, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await sync.call(this);
      die(point);
    };
    prototype.sync = async function (this: object) {
      await sync.call(this);
      if (point === 'checkpoint-binary-synced' && /^checkpoint-\d+\.bin$/.test(targets.get(this) ?? '')) die(point);
    };
  };
  const open = fs.open;
  fs.open = (async (...args: Parameters<typeof fs.open>) => {
    const handle = await open(...args);
    targets.set(handle, targetOf(args[0]));
    patchPrototype(handle);
    return handle;
  }) as typeof fs.open;
  const rename = fs.rename;
  fs.rename = async (from, to) => {
    await rename(from, to);
    const target = targetOf(to);
    if (point === 'checkpoint-binary-renamed' && /^checkpoint-\d+\.bin$/.test(target)) die(point);
    if (point === 'manifest-committed' && target === 'checkpoint.json') die(point);
  };
  const appendFile = fs.appendFile;
  fs.appendFile = (async (path: string, text: string) => {
    if (point === 'metrics-torn' && targetOf(path) === 'metrics.jsonl') {
      await appendFile(path, text.slice(0, Math.floor(text.length / 2)));
      die(point);
    }
    return appendFile(path, text);
  }) as typeof fs.appendFile;
  syncBuiltinESMExports();
}

async function main(): Promise<void> {
  const [directory, weightsOut, point] = process.argv.slice(2) as [string, string, KillPoint | undefined];
  if (point !== undefined) {
    if (!(point in KILL_POINTS))
      throw new Error(`fault-run: unknown kill point '${point}'; known: ${Object.keys(KILL_POINTS).join(', ')}`);
    installKillPoint(point);
  }
  const model = tinyModel(MODEL);
  const result = await trainSupervised({
    model,
    data: { train: syntheticDataset(TRAIN) },
    epochs: EPOCHS,
    batchSize: 16,
    learningRate: 0.1,
    augmentation: false,
    progress: false,
    store: directoryStore(directory),
    resume: 'auto',
    onStepEnd: (info) => {
      if (point === 'mid-epoch' && info.step === 2) die(point);
    },
  });
  const weights = [...model.trainableVariables, ...model.nonTrainableVariables].map((variable) =>
    Array.from(variable.dataSync()),
  );
  writeFileSync(weightsOut, JSON.stringify({ weights, epochs: result.history.map((record) => record.epoch) }));
  model.dispose();
}

// Run only as the child process, not when the test imports the kill points.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
