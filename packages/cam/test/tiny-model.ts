/**
 * A tiny KdModel for the Grad-CAM tests, built from plain tf ops and variables, that honours
 * `HookableApplyOptions.featureHook`:
 *   A0 = x·W1 (1×1 conv, [N,H,W,C0]),  A1 = A0·W2 (1×1 conv, [N,H,W,C1]),  g = head(A1) pooled over positions,
 *   logits = g·Wfc + b,  with head = identity (g = mean A1) or square (g = mean A1²).
 * features = [A0, A1, g]. Everything is linear up to the head, so Grad-CAM's weights have closed forms.
 */
import type { KdModel, ModelOutput } from '@kd/models';
import { tf } from '@kd/test-utils';
import type { HookableApplyOptions } from '../src/grad-cam';

export interface TinyModelWeights {
  w1: number[][]; // [Cin][C0]
  w2: number[][]; // [C0][C1]
  wfc: number[][]; // [C1][K]
  bias: number[]; // [K]
}

export class TinyHookModel implements KdModel {
  readonly name = 'tiny-hook';
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly trainableVariables: tf.Variable[];
  readonly nonTrainableVariables: tf.Variable[] = [];
  private readonly w1: tf.Variable;
  private readonly w2: tf.Variable;
  private readonly wfc: tf.Variable;
  private readonly bias: tf.Variable;

  constructor(
    readonly weights: TinyModelWeights,
    readonly head: 'linear' | 'square' = 'linear',
    private readonly honourHook = true,
  ) {
    this.inputChannels = weights.w1.length;
    this.numClasses = weights.bias.length;
    // tf.tidy disposes the initial-value tensors; variables survive it.
    [this.w1, this.w2, this.wfc, this.bias] = tf.tidy(() => [
      tf.variable(tf.tensor2d(weights.w1)),
      tf.variable(tf.tensor2d(weights.w2)),
      tf.variable(tf.tensor2d(weights.wfc)),
      tf.variable(tf.tensor1d(weights.bias)),
    ]);
    this.trainableVariables = [this.w1, this.w2, this.wfc, this.bias];
  }

  apply(images: tf.Tensor4D, options: HookableApplyOptions): ModelOutput {
    const hook =
      this.honourHook && options.featureHook ? options.featureHook : (_: number, feature: tf.Tensor) => feature;
    const [n, h, w, c] = images.shape;
    const conv1x1 = (x: tf.Tensor, kernel: tf.Variable, channels: number) =>
      tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, channels]), kernel), [n, h, w, kernel.shape[1] as number]);
    const a0 = hook(0, conv1x1(images, this.w1, c));
    const a1 = hook(1, conv1x1(a0, this.w2, this.w1.shape[1] as number));
    const pooled = hook(2, tf.mean(this.head === 'square' ? tf.square(a1) : a1, [1, 2]));
    const logits = tf.add(tf.matMul(pooled, this.wfc), this.bias) as tf.Tensor2D;
    return {
      logits,
      features: [a0, a1, pooled],
      stem: a0,
      stages: [a1],
      pooled: pooled as tf.Tensor2D,
      preactivations: [],
    };
  }

  countParams(): number {
    return this.trainableVariables.reduce((total, variable) => total + variable.size, 0);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables);
  }
}

/** Host forward pass of {@link TinyHookModel}: A0, A1 as [n][position][channel] and logits [n][k]. */
export function tinyForward(
  weights: TinyModelWeights,
  head: 'linear' | 'square',
  images: Float32Array,
  batch: number,
  positions: number,
): { a0: number[][][]; a1: number[][][]; logits: number[][] } {
  const cin = weights.w1.length;
  const c0 = weights.w1[0]!.length;
  const c1 = weights.w2[0]!.length;
  const k = weights.bias.length;
  const a0: number[][][] = [];
  const a1: number[][][] = [];
  const logits: number[][] = [];
  for (let sample = 0; sample < batch; sample++) {
    const s0: number[][] = [];
    const s1: number[][] = [];
    for (let p = 0; p < positions; p++) {
      const x = Array.from({ length: cin }, (_, i) => images[(sample * positions + p) * cin + i]!);
      const v0 = Array.from({ length: c0 }, (_, j) => x.reduce((sum, value, i) => sum + value * weights.w1[i]![j]!, 0));
      const v1 = Array.from({ length: c1 }, (_, j) =>
        v0.reduce((sum, value, i) => sum + value * weights.w2[i]![j]!, 0),
      );
      s0.push(v0);
      s1.push(v1);
    }
    const g = Array.from(
      { length: c1 },
      (_, j) => s1.reduce((sum, row) => sum + (head === 'square' ? row[j]! ** 2 : row[j]!), 0) / positions,
    );
    logits.push(
      Array.from(
        { length: k },
        (_, kk) => weights.bias[kk]! + g.reduce((sum, value, j) => sum + value * weights.wfc[j]![kk]!, 0),
      ),
    );
    a0.push(s0);
    a1.push(s1);
  }
  return { a0, a1, logits };
}
