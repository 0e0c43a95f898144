import { it } from 'vitest';
import { describeWasmVsCpu, expectKernelMatchesCpu, randomHost, tf } from '../test/helpers';

/** The grid tests use few channels; these are the shapes a CIFAR model step actually sends (many channels). */
describeWasmVsCpu('gradient kernels at model-sized shapes: wasm equals cpu', () => {
  it('depthwise 3×3, 48 and 96 channels, strides 1 and 2, same padding', async () => {
    let seed = 300;
    for (const [size, channels, stride] of [
      [16, 48, 1],
      [16, 96, 2],
      [8, 40, 1],
      [9, 24, 2],
    ] as Array<[number, number, number]>) {
      const input: [number, number, number, number] = [2, size, size, channels];
      const filterShape: [number, number, number, number] = [3, 3, channels, 1];
      const info = tf.backend_util.computeConv2DInfo(input, filterShape, stride, 1, 'same', undefined, true);
      const attrs = { strides: stride, dilations: 1, pad: 'same' };
      await expectKernelMatchesCpu(
        'DepthwiseConv2dNativeBackpropFilter',
        { x: randomHost(input, seed++), dy: randomHost(info.outShape, seed++) },
        { ...attrs, filterShape },
      );
      await expectKernelMatchesCpu(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: randomHost(info.outShape, seed++), filter: randomHost(filterShape, seed++) },
        { ...attrs, inputShape: input },
      );
    }
  });

  it('conv 3×3 and 1×1, 16 to 64 channels, strides 1 and 2, same padding', async () => {
    let seed = 400;
    for (const [size, inC, outC, k, stride] of [
      [16, 16, 32, 3, 2],
      [8, 64, 64, 3, 1],
      [16, 24, 48, 1, 1],
      [16, 32, 64, 1, 2],
    ] as Array<[number, number, number, number, number]>) {
      const input: [number, number, number, number] = [2, size, size, inC];
      const filterShape: [number, number, number, number] = [k, k, inC, outC];
      const info = tf.backend_util.computeConv2DInfo(input, filterShape, stride, 1, 'same');
      const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC' };
      await expectKernelMatchesCpu(
        'Conv2DBackpropFilter',
        { x: randomHost(input, seed++), dy: randomHost(info.outShape, seed++) },
        { ...attrs, filterShape },
      );
      await expectKernelMatchesCpu(
        'Conv2DBackpropInput',
        { dy: randomHost(info.outShape, seed++), filter: randomHost(filterShape, seed++) },
        { ...attrs, inputShape: input },
      );
    }
  });
});
