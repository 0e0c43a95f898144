/**
 * `pnpm bench:filter`: milliseconds of the wasm Conv2DBackpropFilter kernel per zoo layer shape (batch 64,
 * 32×32 inputs), in its two formulations, the batch-and-channels-swapped convolution and im2col + matrix
 * product, measured alternately in one run, with their agreement (max |Δ| / max |dw|).
 *
 *   pnpm bench:filter [--threads N] [--repeats 3]
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { cpus } from 'node:os';
import { initWasmTrainingBackend } from '../src/index';
import { type FilterGradientMethod, setFilterGradientMethod } from '../src/kernels/conv2DBackpropFilter';

const argv = process.argv.slice(2).filter((entry) => entry !== '--');
const flag = (name: string, fallback: number): number => {
  const index = argv.indexOf(name);
  return index === -1 ? fallback : Number(argv[index + 1]);
};
const threads = flag('--threads', cpus().length);
const repeats = flag('--repeats', 3);

// [label, H (= W), Ci, Co, kernel, stride] of the 3×3 and strided 1×1 convolutions of resnet20, resnet8x4 and wrn16_2.
const layers: Array<[string, number, number, number, number, number]> = [
  ['stem 3→16', 32, 3, 16, 3, 1],
  ['stem 3→32', 32, 3, 32, 3, 1],
  ['32² 16→16', 32, 16, 16, 3, 1],
  ['32² 16→32', 32, 16, 32, 3, 1],
  ['32² 32→32', 32, 32, 32, 3, 1],
  ['32² 32→64', 32, 32, 64, 3, 1],
  ['32² 16→32 s2', 32, 16, 32, 3, 2],
  ['32² 32→64 s2', 32, 32, 64, 3, 2],
  ['32² 64→128 s2', 32, 64, 128, 3, 2],
  ['16² 32→32', 16, 32, 32, 3, 1],
  ['16² 64→64', 16, 64, 64, 3, 1],
  ['16² 128→128', 16, 128, 128, 3, 1],
  ['16² 32→64 s2', 16, 32, 64, 3, 2],
  ['16² 128→256 s2', 16, 128, 256, 3, 2],
  ['8² 64→64', 8, 64, 64, 3, 1],
  ['8² 128→128', 8, 128, 128, 3, 1],
  ['8² 256→256', 8, 256, 256, 3, 1],
  ['1×1 32² 16→32 s2', 32, 16, 32, 1, 2],
  ['1×1 16² 32→64 s2', 16, 32, 64, 1, 2],
];

const info = await initWasmTrainingBackend({ threads });
process.stdout.write(`wasm ${info.threads} thread(s); batch 64; best of ${repeats} per formulation, alternating\n\n`);
process.stdout.write(
  '| layer | swapped convolution ms | im2col + matMul ms | faster | agreement |\n|---|---|---|---|---|\n',
);
const methods: FilterGradientMethod[] = ['swapped-convolution', 'im2col'];
for (const [label, size, inChannels, outChannels, kernel, stride] of layers) {
  const pad = kernel === 3 ? 1 : 0;
  const outSize = Math.floor((size + 2 * pad - kernel) / stride) + 1;
  const x = tf.randomNormal([64, size, size, inChannels], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([64, outSize, outSize, outChannels], 0, 1, 'float32', 2);
  const attrs = {
    strides: [stride, stride],
    pad: [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ],
    filterShape: [kernel, kernel, inChannels, outChannels],
    dataFormat: 'NHWC',
  };
  const best: Record<string, number> = {};
  const values: Record<string, Float32Array> = {};
  for (let repeat = 0; repeat <= repeats; repeat++) {
    for (const method of methods) {
      setFilterGradientMethod(method);
      const start = performance.now();
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as tf.Tensor;
      const data = dw.dataSync() as Float32Array;
      const ms = performance.now() - start;
      if (repeat > 0) best[method] = Math.min(best[method] ?? Infinity, ms);
      values[method] = Float32Array.from(data);
      dw.dispose();
    }
  }
  setFilterGradientMethod(undefined);
  const a = values['swapped-convolution'] as Float32Array;
  const b = values.im2col as Float32Array;
  let diff = 0;
  let scale = 0;
  for (let index = 0; index < a.length; index++) {
    diff = Math.max(diff, Math.abs((a[index] as number) - (b[index] as number)));
    scale = Math.max(scale, Math.abs(a[index] as number));
  }
  const swapped = best['swapped-convolution'] as number;
  const im2col = best.im2col as number;
  process.stdout.write(
    `| ${label} | ${swapped.toFixed(1)} | ${im2col.toFixed(1)} | ${im2col < swapped ? `im2col ${(swapped / im2col).toFixed(2)}×` : `swapped ${(im2col / swapped).toFixed(2)}×`} | ${(diff / scale).toExponential(1)} |\n`,
  );
  tf.dispose([x, dy]);
}
