/** One training step of a zoo model on a chosen backend, with everything read back to the host. */
import { createModel } from '@kd/models';
import { seededRandom, tf } from '@kd/test-utils';

export interface StepResult {
  loss: number;
  gradients: Float32Array[];
  names: string[];
}

/** Fixed inputs: `batch` images size×size×3 uniform in [-1, 1) and labels 0, 1, … (mod 10). */
export function fixedBatch(batch: number, size: number): { images: Float32Array; labels: Int32Array } {
  const random = seededRandom(42);
  const images = Float32Array.from({ length: batch * size * size * 3 }, () => 2 * random() - 1);
  const labels = Int32Array.from({ length: batch }, (_, index) => (index * 7 + 1) % 10);
  return { images, labels };
}

/**
 * Cross-entropy written out, −mean_n Σ_c y·(z − logsumexp z): tfjs's softmaxCrossEntropy is a customGrad,
 * which the engine's test-mode leak check misreports under a gradient tape on every backend.
 */
function crossEntropy(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 1, true));
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), 1))) as tf.Scalar;
}

/**
 * `inputNoise` adds seeded uniform noise of that amplitude to the images: 1e-6 probes how far float32-sized
 * perturbations move the step (a pure rescaling would not: batch norm undoes it).
 */
export async function trainingStep(
  backend: 'cpu' | 'wasm',
  name: string,
  batch: number,
  size: number,
  inputNoise = 0,
): Promise<StepResult> {
  // A cpu step blocks for many seconds: let vitest's worker answer its RPC calls in between.
  await new Promise((resolve) => setImmediate(resolve));
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  const data = fixedBatch(batch, size);
  const model = createModel(name, { numClasses: 10, seed: 3 });
  try {
    return tf.tidy(() => {
      const noise = seededRandom(99);
      const values = inputNoise === 0 ? data.images : data.images.map((v) => v + inputNoise * (2 * noise() - 1));
      const images = tf.tensor4d(values, [batch, size, size, 3]);
      const labels = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(labels, model.apply(images, { training: true }).logits),
        model.trainableVariables,
      );
      const names = model.trainableVariables.map((variable) => variable.name);
      const gradients = model.trainableVariables.map((variable) => {
        const gradient = grads[variable.name];
        if (gradient === undefined) throw new Error(`no gradient for ${variable.name}`);
        return Float32Array.from(gradient.dataSync());
      });
      return { loss: value.dataSync()[0] as number, gradients, names };
    });
  } finally {
    model.dispose();
  }
}
