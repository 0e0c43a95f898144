/**
 * The user's own models, written as any TensorFlow.js user writes them: plain `tf.sequential` stacks with
 * named layers. Nothing here knows about @kd.
 */
import * as tfl from '@tensorflow/tfjs-layers';

/** Glorot-uniform kernels from `seed`, one seed per layer, so a run starts from the same weights every time. */
function seeded(seed: number): () => ReturnType<typeof tfl.initializers.glorotUniform> {
  let layer = 0;
  return () => tfl.initializers.glorotUniform({ seed: seed * 100 + layer++ });
}

/**
 * The teacher: two conv blocks (conv → BN → ReLU → max-pool) of `width` and 2·`width` filters, a softmax head.
 * BN momentum 0.9 instead of Keras' 0.99: a few hundred steps are too few for 0.99's moving statistics to leave
 * their initial values, and inference-mode BN would then normalise with the wrong ones.
 */
export function buildTeacher(width: number, seed: number): tfl.Sequential {
  const init = seeded(seed);
  const model = tfl.sequential({ name: 'teacher' });
  model.add(
    tfl.layers.conv2d({
      name: 'teacher_conv1',
      kernelInitializer: init(),
      inputShape: [28, 28, 1],
      filters: width,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    }),
  );
  model.add(tfl.layers.batchNormalization({ name: 'teacher_bn1', momentum: 0.9 }));
  model.add(tfl.layers.reLU({ name: 'teacher_block1' }));
  model.add(tfl.layers.maxPooling2d({ name: 'teacher_pool1', poolSize: 2 }));
  model.add(
    tfl.layers.conv2d({
      name: 'teacher_conv2',
      kernelInitializer: init(),
      filters: 2 * width,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    }),
  );
  model.add(tfl.layers.batchNormalization({ name: 'teacher_bn2', momentum: 0.9 }));
  model.add(tfl.layers.reLU({ name: 'teacher_block2' }));
  model.add(tfl.layers.maxPooling2d({ name: 'teacher_pool2', poolSize: 2 }));
  model.add(tfl.layers.flatten({ name: 'teacher_flatten' }));
  model.add(tfl.layers.dense({ name: 'teacher_head', kernelInitializer: init(), units: 10, activation: 'softmax' }));
  return model;
}

/** The student: the same shape with `width` ≪ the teacher's, no batch norm, and a linear (logits) head. */
export function buildStudent(name: string, width: number, seed: number): tfl.Sequential {
  const init = seeded(seed);
  const model = tfl.sequential({ name });
  model.add(
    tfl.layers.conv2d({
      name: `${name}_conv1`,
      kernelInitializer: init(),
      inputShape: [28, 28, 1],
      filters: width,
      kernelSize: 3,
      padding: 'same',
    }),
  );
  model.add(tfl.layers.reLU({ name: `${name}_block1` }));
  model.add(tfl.layers.maxPooling2d({ name: `${name}_pool1`, poolSize: 2 }));
  model.add(
    tfl.layers.conv2d({
      name: `${name}_conv2`,
      kernelInitializer: init(),
      filters: 2 * width,
      kernelSize: 3,
      padding: 'same',
    }),
  );
  model.add(tfl.layers.reLU({ name: `${name}_block2` }));
  model.add(tfl.layers.maxPooling2d({ name: `${name}_pool2`, poolSize: 2 }));
  model.add(tfl.layers.flatten({ name: `${name}_flatten` }));
  model.add(tfl.layers.dense({ name: `${name}_head`, kernelInitializer: init(), units: 10 }));
  return model;
}
