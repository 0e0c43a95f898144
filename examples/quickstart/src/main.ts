/**
 * `pnpm quickstart` (from the repository root) or `pnpm start` (here): the offline quick start.
 *
 *   --backend auto|tensorflow|wasm|cpu   default auto (wasm with @kd/wasm-training when tfjs-node is absent)
 *   --out-dir DIR                        default runs/quickstart
 *   --fresh                              delete DIR first instead of resuming finished runs
 *   --threads N|auto                     wasm threads, default auto (every core)
 *   --epochs-scale X                     multiply every epoch count (e.g. 0.5 for a faster, rougher run)
 */
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendChoices, selectBackend, type BackendChoice } from '@kd-example/common';
import { defaultConfig, trainAndEvaluate } from './quickstart';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message: string): never {
  process.stderr.write(`quickstart: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      'out-dir': { type: 'string', default: join(here, '..', 'runs', 'quickstart') },
      fresh: { type: 'boolean', default: false },
      'epochs-scale': { type: 'string', default: '1' },
      threads: { type: 'string', default: 'auto' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: pnpm quickstart [--backend auto|tensorflow|wasm|cpu] [--threads N|auto] [--out-dir DIR] [--fresh] [--epochs-scale X]\n',
    );
    return;
  }
  const backend = values.backend as BackendChoice;
  if (!backendChoices.includes(backend))
    fail(`--backend must be one of ${backendChoices.join(', ')}, got '${values.backend}'`);
  const scale = Number(values['epochs-scale']);
  if (!(scale > 0 && Number.isFinite(scale)))
    fail(`--epochs-scale must be a positive number, got '${values['epochs-scale']}'`);
  const outDir = resolve(values['out-dir'] as string);
  if (values.fresh) await rm(outDir, { recursive: true, force: true });

  // Import tfjs-node(-gpu) from this package, where `pnpm add --filter @kd-example/quickstart` puts it.
  const threads = values.threads === 'auto' ? 'auto' : Number(values.threads);
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1))
    fail(`--threads must be a positive integer or 'auto', got '${values.threads}'`);
  const selected = await selectBackend({ backend, threads, importModule: (specifier) => import(specifier) });
  const epochs = (count: number) => Math.max(1, Math.round(count * scale));
  const config = {
    ...defaultConfig,
    dataDir: join(here, '..', 'data'),
    outDir,
    teacherEpochs: epochs(defaultConfig.teacherEpochs),
    fineTuneEpochs: epochs(defaultConfig.fineTuneEpochs),
    studentEpochs: epochs(defaultConfig.studentEpochs),
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const result = await trainAndEvaluate(config);
  process.stdout.write(
    [
      '',
      `Fashion-MNIST quick start: teacher ${config.teacher} (${result.parameters.teacher.toLocaleString('en')} parameters) on ` +
        `${config.trainSize.toLocaleString('en')} training images; students ${config.student} (${result.parameters.student.toLocaleString('en')} parameters) ` +
        `on ${result.studentTrainSize} of them; ${config.testSize.toLocaleString('en')} test images; backend ${selected.description}`,
      '',
      result.table,
      '',
      `table:    ${result.files.results} (numbers: ${result.files.json})`,
      `Eigen-CAM: ${result.files.camGrid}`,
      `curves:   ${result.files.curves}`,
      `wall time ${(result.seconds / 60).toFixed(1)} min`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`quickstart: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
