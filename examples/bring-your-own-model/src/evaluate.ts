/**
 * The fresh process of the example: loads the saved student with `tf.loadLayersModel('file://…/model.json')`
 * (no @kd model code involved) and prints one JSON line: its test accuracy and its first outputs.
 *
 *   tsx --conditions=@kd/source src/evaluate.ts --model DIR/model.json --data-dir DIR --test-size N --backend wasm
 */
import { parseArgs } from 'node:util';
import * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendChoice } from '@kd-example/common';
import { registerFileSystemRouter } from '@kd/layers/node';
import { loadSplit, predictDataset } from './data';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'data-dir': { type: 'string' },
      'test-size': { type: 'string', default: '1000' },
      backend: { type: 'string', default: 'wasm' },
    },
  });
  if (values.model === undefined || values['data-dir'] === undefined)
    throw new Error('evaluate: --model and --data-dir are required');
  await selectBackend({
    backend: values.backend as BackendChoice,
    log: () => undefined,
    importModule: (specifier) => import(specifier),
  });
  registerFileSystemRouter();
  const model = await tfl.loadLayersModel(`file://${values.model}`);
  const test = await loadSplit(values['data-dir'], 't10k', Number(values['test-size']));
  const report = await predictDataset(test, (images) => model.predict(images) as tf.Tensor2D);
  model.dispose();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`evaluate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
