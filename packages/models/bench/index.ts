/**
 * Throughput of the zoo: forward (inference mode) and forward+backward (training mode, gradients of a
 * cross-entropy with respect to every trainable variable) in images/s, on the cpu backend and, when
 * `@tensorflow/tfjs-backend-wasm` is importable, on wasm (with `@kd/wasm-training`'s gradient kernels when
 * that package exports `registerWasmTrainingKernels`; it is read from the sibling package's source, not a
 * dependency, because @kd/wasm-training itself depends on @kd/models).
 *
 *   pnpm bench                                   # batch 64 (cpu: batch 2, one pass), every backend found
 *   pnpm bench -- --cpu-batch 64                 # the pure-JS backend at batch 64 too (very slow backward)
 *   pnpm bench -- --models resnet20,wrn40_2 --iterations 3 --warmup 1 --skip-backward --backends wasm
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createModel } from '../src/index';

interface Options {
  backends: string[] | undefined;
  batch: number;
  /** The cpu backend's convolution gradients are scalar loops: its own, smaller default batch… */
  cpuBatch: number;
  /** …and one timed pass, no warm-up (its JS kernels have nothing to warm up). */
  cpuIterations: number;
  iterations: number;
  warmup: number;
  models: string[];
  skipBackward: boolean;
}

function parseArguments(argv: string[]): Options {
  const options: Options = {
    backends: undefined,
    batch: 64,
    cpuBatch: 2,
    cpuIterations: 1,
    iterations: 2,
    warmup: 1,
    models: ['resnet8x4', 'resnet20', 'resnet32x4', 'wrn40_2', 'mobilenetv2'],
    skipBackward: false,
  };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = (): string => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`bench: ${flag} needs a value`);
      return next;
    };
    const positive = (text: string, min: number): number => {
      const number = Number(text);
      if (!Number.isInteger(number) || number < min)
        throw new Error(`bench: ${flag} must be an integer >= ${min}, got ${text}`);
      return number;
    };
    if (flag === '--') continue;
    else if (flag === '--backends') options.backends = value().split(',');
    else if (flag === '--batch') options.batch = positive(value(), 1);
    else if (flag === '--cpu-batch') options.cpuBatch = positive(value(), 1);
    else if (flag === '--cpu-iterations') options.cpuIterations = positive(value(), 1);
    else if (flag === '--iterations') options.iterations = positive(value(), 1);
    else if (flag === '--warmup') options.warmup = positive(value(), 0);
    else if (flag === '--models') options.models = value().split(',');
    else if (flag === '--skip-backward') options.skipBackward = true;
    else
      throw new Error(
        `bench: unknown flag ${flag}; flags: --backends, --batch, --cpu-batch, --cpu-iterations, --iterations, --warmup, --models, --skip-backward`,
      );
  }
  return options;
}

/** Registers the wasm backend if it can be imported; returns a note on its training kernels, or undefined. */
async function setUpWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return undefined;
  }
  const source = fileURLToPath(new URL('../../wasm-training/src/index.ts', import.meta.url));
  if (!existsSync(source)) return 'stock kernels (@kd/wasm-training not found)';
  try {
    const training = (await import(pathToFileURL(source).href)) as Record<string, unknown>;
    if (typeof training.registerWasmTrainingKernels === 'function') {
      await (training.registerWasmTrainingKernels as () => unknown)();
      return 'with @kd/wasm-training gradient kernels';
    }
    return 'stock kernels (@kd/wasm-training does not export registerWasmTrainingKernels yet)';
  } catch (error) {
    return `stock kernels (@kd/wasm-training not loadable: ${(error as Error).message.split('\n')[0]})`;
  }
}

function time(run: () => void, warmup: number, iterations: number): number {
  for (let index = 0; index < warmup; index++) run();
  const start = performance.now();
  for (let index = 0; index < iterations; index++) run();
  return (performance.now() - start) / iterations;
}

function benchModel(
  name: string,
  batch: number,
  { warmup, iterations, skipBackward }: Timing,
): { forward: number; backward: number | string } {
  const model = createModel(name, { numClasses: 100, seed: 0 });
  const images = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 100, 'int32', 2) as tf.Tensor1D, 100));
  try {
    const forwardMs = time(
      () => {
        const output = model.apply(images, { training: false });
        output.logits.dataSync();
        tf.dispose([output.logits, ...output.features, ...output.preactivations]);
      },
      warmup,
      iterations,
    );
    let backward: number | string = 'skipped';
    if (!skipBackward) {
      try {
        const backwardMs = time(
          () => {
            const { value, grads } = tf.variableGrads(() => {
              const output = model.apply(images, { training: true });
              // Cross-entropy −mean Σ y·log softmax(z).
              return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(output.logits)), 1))) as tf.Scalar;
            }, model.trainableVariables);
            value.dataSync();
            tf.dispose([value, ...Object.values(grads)]);
          },
          warmup,
          iterations,
        );
        backward = (1000 * batch) / backwardMs;
      } catch (error) {
        backward = `failed: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    return { forward: (1000 * batch) / forwardMs, backward };
  } finally {
    tf.dispose([images, labels]);
    model.dispose();
  }
}

interface Timing {
  warmup: number;
  iterations: number;
  skipBackward: boolean;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const wasmNote = await setUpWasm();
  const backends = options.backends ?? (wasmNote === undefined ? ['cpu'] : ['cpu', 'wasm']);
  console.log('@kd/models bench: 32×32×3 images, 100 classes, images/s (mean over the timed iterations)');
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`bench: backend '${backend}' could not be initialised`);
    await tf.ready();
    const note = backend === 'wasm' ? ` (${wasmNote ?? 'not importable'})` : '';
    const cpu = backend === 'cpu';
    const batch = cpu ? options.cpuBatch : options.batch;
    const timing: Timing = {
      warmup: cpu ? 0 : options.warmup,
      iterations: cpu ? options.cpuIterations : options.iterations,
      skipBackward: options.skipBackward,
    };
    console.log(
      `\nbackend: ${tf.getBackend()}${note}, batch ${batch}, ${timing.warmup} warm-up + ${timing.iterations} timed iteration(s)`,
    );
    console.log('| model | forward img/s | forward+backward img/s | backward cost (fwd+bwd time / fwd time) |');
    console.log('|---|---|---|---|');
    for (const name of options.models) {
      const { forward, backward } = benchModel(name, batch, timing);
      const ratio = typeof backward === 'number' ? (forward / backward).toFixed(1) : '–';
      const backwardText = typeof backward === 'number' ? backward.toPrecision(3) : backward;
      console.log(`| ${name} | ${forward.toPrecision(3)} | ${backwardText} | ${ratio} |`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
