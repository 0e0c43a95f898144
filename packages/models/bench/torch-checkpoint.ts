/**
 * Load time of a resnet32x4 checkpoint (7.4 M parameters, 100 classes) with `loadTorchCheckpoint`, file read
 * included, in the three formats: the zip and legacy files are written by the test writer (what
 * `torch.save` writes, minus alignment padding), safetensors by `saveSafetensors`. `--file` adds a file made
 * by PyTorch (`python3 scripts/make-torch-fixtures.py bench-checkpoint resnet32x4.pth`).
 *
 *   pnpm bench                                      # runs this, then the zoo throughput benchmark
 *   npx tsx bench/torch-checkpoint.ts --iterations 5 --file /path/to/resnet32x4.pth
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, saveSafetensors } from '../src/index';
import { loadTorchCheckpoint } from '../src/node';
import { torchShape } from '../src/torch/layout';
import { stateDict, torchSaveLegacy, torchSaveZip, type TensorInput } from '../test/torch-writer';

function parseArguments(argv: string[]): { iterations: number; files: string[] } {
  const options = { iterations: 3, files: [] as string[] };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const next = argv[index + 1];
    if (flag === '--') continue;
    if (flag === '--iterations' && next !== undefined && Number.isInteger(Number(next)) && Number(next) >= 1)
      options.iterations = Number(argv[++index]);
    else if (flag === '--file' && next !== undefined) options.files.push(argv[++index] as string);
    else
      throw new Error(`bench: unknown or incomplete flag ${String(flag)}; flags: --iterations N (>= 1), --file PATH`);
  }
  return options;
}

async function main(): Promise<void> {
  const { iterations, files } = parseArguments(process.argv.slice(2));
  await tf.setBackend('cpu');
  const model = createModel('resnet32x4', { numClasses: 100 });
  const tensors: Record<string, TensorInput> = {};
  for (const { name, variable } of model.namedVariables) {
    const rank = variable.shape.length;
    const permutation = rank === 4 ? [3, 2, 0, 1] : rank === 2 ? [1, 0] : [0];
    tensors[name] = {
      values: tf.tidy(() => tf.transpose(variable, permutation).dataSync() as Float32Array),
      shape: torchShape(variable.shape),
    };
  }
  const directory = mkdtempSync(join(tmpdir(), 'kd-bench-torch-'));
  try {
    const wrapped = {
      dict: [
        ['model', stateDict(tensors)],
        ['epoch', 240],
      ] as Array<[string, ReturnType<typeof stateDict> | number]>,
    };
    const inputs: Array<[string, Uint8Array]> = [
      ['zip', torchSaveZip(wrapped)],
      ['legacy', torchSaveLegacy(wrapped)],
      ['safetensors', await saveSafetensors(model)],
    ];
    const paths = inputs.map(([format, bytes]) => {
      const path = join(directory, `resnet32x4.${format}`);
      writeFileSync(path, bytes);
      return { label: format, path, size: bytes.length };
    });
    for (const file of files) paths.push({ label: `PyTorch file ${file}`, path: file, size: Number.NaN });
    console.log(
      `resnet32x4: ${model.countParams()} trainable parameters, ${model.namedVariables.length} tensors; best of ${iterations} loads (file read included)`,
    );
    console.log('| format | file MB | load s (best) | load s (median) |');
    console.log('|---|---|---|---|');
    for (const { label, path, size } of paths) {
      const times: number[] = [];
      for (let iteration = 0; iteration < iterations; iteration++) {
        const start = performance.now();
        loadTorchCheckpoint(model, path);
        times.push((performance.now() - start) / 1000);
      }
      times.sort((a, b) => a - b);
      const megabytes = Number.isNaN(size) ? '—' : (size / 1e6).toFixed(1);
      console.log(
        `| ${label} | ${megabytes} | ${(times[0] as number).toFixed(3)} | ${(times[Math.floor(times.length / 2)] as number).toFixed(3)} |`,
      );
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
    model.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
