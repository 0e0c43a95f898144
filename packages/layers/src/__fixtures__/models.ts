/** Small Keras-style models with deterministic weights, for the tests. */
import * as tfl from '@tensorflow/tfjs-layers';
import { seededRandom, tf } from '@kd/test-utils';

/** Overwrites every weight of `model` with uniform values in [-0.5, 0.5) from `seed` (BN variances in [0.5, 1.5)). */
export function setSeededWeights(model: tfl.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const weight of model.weights) {
    const size = (weight.shape as number[]).reduce((a, b) => a * b, 1);
    const positive = /moving_variance|gamma/.test(weight.originalName);
    const values = Float32Array.from({ length: size }, () => (positive ? 0.5 : -0.5) + random());
    const tensor = tf.tensor(values, weight.shape as number[]);
    weight.write(tensor);
    tensor.dispose();
  }
}

/** conv(8) → BN → ReLU → maxPool → conv(16) → ReLU → maxPool → flatten → dense(classes), on 8×8×channels. */
export function convNet(options: {
  name: string;
  seed: number;
  channels?: number;
  size?: number;
  classes?: number;
  head?: 'linear' | 'softmax' | 'softmax-layer';
  width?: number;
}): tfl.Sequential {
  const { name, seed, channels = 1, size = 8, classes = 4, head = 'linear', width = 8 } = options;
  const model = tfl.sequential({ name });
  model.add(
    tfl.layers.conv2d({
      name: `${name}_conv1`,
      inputShape: [size, size, channels],
      filters: width,
      kernelSize: 3,
      padding: 'same',
    }),
  );
  model.add(tfl.layers.batchNormalization({ name: `${name}_bn1` }));
  model.add(tfl.layers.reLU({ name: `${name}_relu1` }));
  model.add(tfl.layers.maxPooling2d({ name: `${name}_pool1`, poolSize: 2 }));
  model.add(
    tfl.layers.conv2d({
      name: `${name}_conv2`,
      filters: 2 * width,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    }),
  );
  model.add(tfl.layers.maxPooling2d({ name: `${name}_pool2`, poolSize: 2 }));
  model.add(tfl.layers.flatten({ name: `${name}_flatten` }));
  model.add(
    tfl.layers.dense({ name: `${name}_dense`, units: classes, activation: head === 'softmax' ? 'softmax' : 'linear' }),
  );
  if (head === 'softmax-layer') model.add(tfl.layers.softmax({ name: `${name}_softmax` }));
  setSeededWeights(model, seed);
  return model;
}

/** Every variable value of a Keras model, copied (to compare runs bit for bit). */
export function kerasSnapshot(model: tfl.LayersModel): Float32Array[] {
  return model.weights.map((weight) => (weight.read().dataSync() as Float32Array).slice());
}
