import { describeWithBackends, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { createImage, heatMapsFromTensor, imageFromTensor } from './image';

describeWithBackends('image helpers', () => {
  it('heatMapsFromTensor splits [N, H, W] into host maps without disposing the tensor', () => {
    const maps = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    const [first, second] = heatMapsFromTensor(maps);
    expect(first).toEqual({ width: 3, height: 2, data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    expect(Array.from(second!.data)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(maps.isDisposed).toBe(false);
    maps.dispose();
  });

  it('imageFromTensor maps [low, high] to [0, 255] (min–max by default), clamping', () => {
    const image = tf.tensor3d([-1, 0, 1, 3], [2, 2, 1]);
    expect(Array.from(imageFromTensor(image).data)).toEqual([0, 64, 128, 255]); // (x + 1)/4·255
    expect(Array.from(imageFromTensor(image, { low: 0, high: 1 }).data)).toEqual([0, 0, 255, 255]);
    expect(() => imageFromTensor(image, { low: 2, high: 1 })).toThrow('imageFromTensor: high (1) must be >= low (2)');
    const twoChannels = tf.zeros([2, 2, 2]);
    expect(() => imageFromTensor(twoChannels)).toThrow('imageFromTensor: image must have 1, 3 or 4 channels, got 2');
    tf.dispose([image, twoChannels]);
  });

  it('createImage fills every pixel, RGBA opaque by default', () => {
    expect(Array.from(createImage(2, 1, 4, [1, 2, 3]).data)).toEqual([1, 2, 3, 255, 1, 2, 3, 255]);
    expect(() => createImage(0, 1, 3)).toThrow('createImage: width must be > 0');
  });
});
