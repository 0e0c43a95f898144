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
    // The result leaves the tidy through a closure, not as its return value: tidy walks a returned object's
    // contents looking for tensors, and resnet50's ~23 M gradient numbers overflow the Set it keeps.
    let result: StepResult | undefined;
    tf.tidy(() => {
      const noise = seededRandom(99);
      const values = inputNoise === 0 ? data.images : data.images.map((v) => v + inputNoise * (2 * noise() - 1));
      const images = tf.tensor4d(values, [batch, size, size, 3]);
      const labels = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(labels, model.apply(images, { training: true }).logits),
        model.trainableVariables,
      );
      // The zoo's stable names (`layer1.0.conv1.weight`), so a failure says which layer it is.
      const stableNames = new Map((model.namedVariables ?? []).map((entry) => [entry.variable, entry.name]));
      const names = model.trainableVariables.map((variable) => stableNames.get(variable) ?? variable.name);
      const gradients = model.trainableVariables.map((variable) => {
        const gradient = grads[variable.name];
        if (gradient === undefined) throw new Error(`no gradient for ${variable.name}`);
        return Float32Array.from(gradient.dataSync());
      });
      result = { loss: value.dataSync()[0] as number, gradients, names };
    });
    if (result === undefined) throw new Error(`trainingStep: ${name} produced no result`);
    return result;
  } finally {
    model.dispose();
  }
}

export interface StepComparison {
  /** |loss_wasm − loss_cpu| / |loss_cpu|. */
  lossError: number;
  /** The step's gradient scale G = max over variables of max |g_cpu|. */
  scale: number;
  /** Per variable: max |g_wasm − g_cpu| and max |g_cpu(noisy input) − g_cpu|. */
  variables: { name: string; error: number; sensitivity: number }[];
  /** max over variables of error / G. */
  maxRelativeError: number;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  for (let at = 0; at < b.length; at++) {
    const value = Math.abs((a[at] as number) - (b[at] as number));
    difference = Number.isNaN(value) ? Infinity : Math.max(difference, value);
  }
  return difference;
}

/**
 * Runs the step on cpu, on cpu with ±1e-6 input noise (how far float32-sized perturbations alone move each
 * gradient) and on wasm, and measures how far wasm is from cpu. The criterion, checked by the caller:
 * lossError ≤ 1e-4 and, per variable, error ≤ 1e-4·G + 4·sensitivity. Some gradients are ill-conditioned
 * (batch norm over few values, the nearly cancelling first-layer sums Σ x·dy of the shufflenets): on cpu
 * alone the noise moves them by up to a few % of G; a wrong kernel errs by O(G).
 */
export async function compareTrainingSteps(name: string, batch: number, size: number): Promise<StepComparison> {
  const cpu = await trainingStep('cpu', name, batch, size);
  const perturbed = await trainingStep('cpu', name, batch, size, 1e-6);
  const wasm = await trainingStep('wasm', name, batch, size);
  if (wasm.gradients.length !== cpu.gradients.length) {
    throw new Error(`${name}: ${wasm.gradients.length} gradients on wasm, ${cpu.gradients.length} on cpu`);
  }
  const scale = Math.max(...cpu.gradients.map((values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  const variables = cpu.gradients.map((expected, index) => ({
    name: cpu.names[index] as string,
    error: maxAbsDifference(wasm.gradients[index] as Float32Array, expected),
    sensitivity: maxAbsDifference(perturbed.gradients[index] as Float32Array, expected),
  }));
  return {
    lossError: Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss),
    scale,
    variables,
    maxRelativeError: Math.max(...variables.map((variable) => variable.error / scale)),
  };
}
