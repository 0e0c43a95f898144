/**
 * `pnpm start` (here): distill your own tf.sequential teacher into your own tf.sequential student.
 *
 *   --backend auto|tensorflow|wasm|cpu   default auto (wasm with @kd/wasm-training when tfjs-node is absent)
 *   --out-dir DIR                        default runs/bring-your-own-model
 *   --fresh                              delete DIR first instead of resuming finished runs
 */
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendChoices, selectBackend, type BackendChoice } from '@kd-example/common';
import { bringYourOwnModel, defaultConfig, type ByomConfig } from './byom';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message: string): never {
  process.stderr.write(`bring-your-own-model: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      'out-dir': { type: 'string', default: join(here, '..', 'runs', 'bring-your-own-model') },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: pnpm start [--backend auto|tensorflow|wasm|cpu] [--out-dir DIR] [--fresh]\n');
    return;
  }
  const backend = values.backend as BackendChoice;
  if (!backendChoices.includes(backend))
    fail(`--backend must be one of ${backendChoices.join(', ')}, got '${values.backend}'`);
  const outDir = resolve(values['out-dir'] as string);
  if (values.fresh) await rm(outDir, { recursive: true, force: true });
  const selected = await selectBackend({ backend, importModule: (specifier) => import(specifier) });
  const started = Date.now();
  const result = await bringYourOwnModel({
    ...defaultConfig,
    dataDir: join(here, '..', '..', 'quickstart', 'data'),
    outDir,
    backend: selected.name as ByomConfig['backend'],
  });
  process.stdout.write(
    [
      '',
      `Bring your own model: Fashion-MNIST, ${defaultConfig.trainSize} training / ${defaultConfig.testSize} test images, backend ${selected.description}`,
      '',
      result.table,
      '',
      `saved the distilled student to ${result.savedTo} (model.json + weights.bin, tf.loadLayersModel reads it)`,
      `reloaded in a fresh process: max |Δ logit| = ${result.reloadDifference.toExponential(2)} on the first test images`,
      `wall time ${((Date.now() - started) / 60000).toFixed(1)} min`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bring-your-own-model: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
