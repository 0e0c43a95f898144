/**
 * A deliberately tiny conv net for the smoke tests, registered in @kd/models' registry as `smoke-cnn`. The pure-JS
 * cpu backend's Conv2DBackpropFilter makes even resnet8 cost tens of seconds per batch-8 step on a busy
 * 2-core machine; this net has the same output contract (stem, stage maps, pooled vector, pre-activations) at a
 * fraction of the cost, so every command can run end to end in the test suite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, Dense, buildZooModel, globalAvgPool, listModels, registerModel } from '@kd/models';

export const SMOKE_MODEL = 'smoke-cnn';

/** Registers `smoke-cnn` once per process: conv(3→4, s2) → [conv(4→8, s2) → BN], [conv(8→8, s2) → BN] → pool → fc. */
export function registerSmokeModel(): void {
  if (listModels().includes(SMOKE_MODEL)) return;
  registerModel(SMOKE_MODEL, ({ name, numClasses, seed, inputChannels }) =>
    buildZooModel({
      name,
      numClasses,
      seed,
      inputChannels,
      build: (scope) => {
        const stem = new Conv2d(scope.child('conv1'), {
          inChannels: inputChannels,
          outChannels: 4,
          kernelSize: 3,
          stride: 2,
          padding: 1,
        });
        const stemBn = new BatchNorm2d(scope.child('bn1'), { channels: 4 });
        const stages = [
          {
            conv: new Conv2d(scope.child('layer1'), {
              inChannels: 4,
              outChannels: 8,
              kernelSize: 3,
              stride: 2,
              padding: 1,
            }),
            bn: new BatchNorm2d(scope.child('bn2'), { channels: 8 }),
          },
          {
            conv: new Conv2d(scope.child('layer2'), {
              inChannels: 8,
              outChannels: 8,
              kernelSize: 3,
              stride: 2,
              padding: 1,
            }),
            bn: new BatchNorm2d(scope.child('bn3'), { channels: 8 }),
          },
        ];
        const fc = new Dense(scope.child('fc'), { inFeatures: 8, outFeatures: numClasses });
        return (images, training) => {
          const first = tf.relu(stemBn.apply(stem.apply(images), training));
          const features: tf.Tensor[] = [first];
          const preactivations: tf.Tensor[] = [];
          const stageOutputs: tf.Tensor[] = [];
          let x = first;
          for (const stage of stages) {
            const preact = stage.bn.apply(stage.conv.apply(x), training);
            preactivations.push(preact);
            x = tf.relu(preact);
            stageOutputs.push(x);
            features.push(x);
          }
          const pooled = globalAvgPool(x);
          features.push(pooled);
          return { logits: fc.apply(pooled), features, stem: first, stages: stageOutputs, pooled, preactivations };
        };
      },
    }),
  );
}
