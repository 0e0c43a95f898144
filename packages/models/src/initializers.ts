/**
 * Weight initialisers of the reference (PyTorch) models, as plain functions of a shape and a seeded stream.
 */
import type { RandomStream } from './random';

/** Fills a weight of `size` scalars. */
export type Initializer = (size: number, random: RandomStream) => Float32Array;

/** Normal(0, std²). */
export function normalInitializer(std: number): Initializer {
  return (size, random) => {
    const values = new Float32Array(size);
    for (let index = 0; index < size; index++) values[index] = std * random.normal();
    return values;
  };
}

/** Uniform in [−bound, bound). */
export function uniformInitializer(bound: number): Initializer {
  return (size, random) => {
    const values = new Float32Array(size);
    for (let index = 0; index < size; index++) values[index] = bound * (2 * random.uniform() - 1);
    return values;
  };
}

/** A constant. */
export function constantInitializer(value: number): Initializer {
  return (size) => new Float32Array(size).fill(value);
}

/**
 * Kaiming-normal with mode fan_out for ReLU nets (PyTorch `kaiming_normal_(mode='fan_out')`, also the
 * `normal_(0, sqrt(2/n)), n = k·k·out_channels` of the WRN/VGG/MobileNetV2 code):
 * std = √(2 / fan_out), fan_out = kh·kw·outChannels. Like PyTorch, fan_out ignores groups (PyTorch reads it
 * from the weight's first dimension, the output channels).
 */
export function kaimingNormalFanOut(kernelHeight: number, kernelWidth: number, outChannels: number): Initializer {
  return normalInitializer(Math.sqrt(2 / (kernelHeight * kernelWidth * outChannels)));
}

/**
 * PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases (`kaiming_uniform_(a=√5)`):
 * uniform in ±1/√fan_in, fan_in = inputs per output (kh·kw·inChannels/groups for a conv).
 */
export function torchDefaultUniform(fanIn: number): Initializer {
  return uniformInitializer(1 / Math.sqrt(fanIn));
}
