/**
 * Benchmarks for @kd/cam (run: `pnpm bench` in packages/cam). Figures are ratios measured in one run, on the
 * pure-JS cpu backend.
 *
 * 1. Why the power iteration runs on the host: the same leading eigenvector of the same Gram matrices by
 *    (a) plain float64 JS (what eigenCam does) and (b) tfjs ops with one device→host read per iteration for the
 *    convergence test (what an on-device loop needs).
 * 2. eigenCam end to end on CIFAR-sized last-stage activations.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { eigenCam, leadingEigenvector } from '../src/index';

tf.env().set('IS_TEST', true); // silence the "install tfjs-node" banner

function time(label: string, repeats: number, run: () => void): number {
  run(); // warm-up
  const start = performance.now();
  for (let index = 0; index < repeats; index++) run();
  const milliseconds = (performance.now() - start) / repeats;
  console.log(`${label.padEnd(58)} ${milliseconds.toFixed(3).padStart(10)} ms`);
  return milliseconds;
}

/** Power iteration with tfjs ops: v ← Gv/‖Gv‖, reading the residual back every step (as a convergence test must). */
function tfPowerIteration(gram: tf.Tensor2D, tolerance: number, maxIterations: number): number {
  const size = gram.shape[0];
  let vector = tf.div(tf.ones([size, 1]), Math.sqrt(size)) as tf.Tensor2D;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const [next, residual] = tf.tidy(() => {
      const product = tf.matMul(gram, vector);
      const rayleigh = tf.sum(tf.mul(vector, product));
      const relative = tf.div(tf.norm(tf.sub(product, tf.mul(rayleigh, vector))), rayleigh);
      return [tf.div(product, tf.norm(product)) as tf.Tensor2D, relative];
    });
    const value = residual.dataSync()[0] as number;
    residual.dispose();
    vector.dispose();
    vector = next;
    if (value <= tolerance) {
      vector.dispose();
      return iteration;
    }
  }
  vector.dispose();
  return maxIterations;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  console.log(`backend: ${tf.getBackend()}`);

  console.log('\n1. leading eigenvector of M̃ᵀM̃, tolerance 1e-6 (host float64 vs tfjs ops + per-step read)');
  for (const [positions, channels] of [
    [64, 64],
    [256, 256],
  ] as const) {
    const gram = tf.tidy(() => {
      const m = tf.randomNormal([positions, channels], 0, 1, 'float32', 7);
      const centred = tf.sub(m, tf.mean(m, 0, true));
      return tf.matMul(centred, centred, true, false) as tf.Tensor2D;
    });
    const host = gram.dataSync().slice();
    let iterations = 0;
    const hostMs = time(`host JS, C = ${channels}`, 20, () => {
      iterations = leadingEigenvector(host, channels, { tolerance: 1e-6, maxIterations: 100_000 }).iterations;
    });
    let tfIterations = 0;
    const tfMs = time(`tfjs ops, C = ${channels}`, 3, () => {
      tfIterations = tfPowerIteration(gram, 1e-6, 100_000);
    });
    console.log(
      `   iterations: host ${iterations}, tfjs ${tfIterations}; tfjs / host time = ${(tfMs / hostMs).toFixed(1)}×`,
    );
    gram.dispose();
  }

  console.log('\n2. eigenCam end to end');
  const stage = tf.randomNormal([16, 8, 8, 64], 0, 1, 'float32', 1) as tf.Tensor4D; // resnet last stage, batch 16
  const eigenMs = time('eigenCam [16, 8, 8, 64]', 10, () => eigenCam(stage).dispose());
  const stageForward = tf.randomNormal([16, 8, 8, 64], 0, 1, 'float32', 2) as tf.Tensor4D;
  const matMulMs = time('reference cost: one tf.matMul [16,64,64]·[16,64,64]', 10, () => {
    tf.tidy(() =>
      tf.matMul(tf.reshape(stageForward, [16, 64, 64]), tf.reshape(stageForward, [16, 64, 64]), true),
    ).dataSync();
  });
  console.log(`   eigenCam / one batched 64×64 matMul = ${(eigenMs / matMulMs).toFixed(1)}×`);
  const wide = tf.randomNormal([4, 4, 4, 512], 0, 1, 'float32', 3) as tf.Tensor4D; // H·W = 16 < C = 512: 16×16 Gram
  time('eigenCam [4, 4, 4, 512] (H·W×H·W Gram)', 10, () => eigenCam(wide).dispose());
  tf.dispose([stage, stageForward, wide]);
}

void main();
