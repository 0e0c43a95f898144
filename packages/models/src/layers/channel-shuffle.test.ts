import { describeWithBackends, expectArraysClose, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { channelShuffle } from './channel-shuffle';

describeWithBackends('channelShuffle', () => {
  it('interleaves the groups: channel i·(C/g) + j goes to j·g + i', () => {
    tf.tidy(() => {
      // Two positions, six channels a0 a1 a2 b0 b1 b2 encoded as 10, 11, 12, 20, 21, 22.
      const x = tf.tensor4d([10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42], [1, 1, 2, 6]);
      const two = channelShuffle(x, 2);
      expectArraysClose(two.dataSync(), [10, 20, 11, 21, 12, 22, 30, 40, 31, 41, 32, 42]);
      const three = channelShuffle(x, 3);
      // Groups (10 11) (12 20) (21 22) → 10 12 21 11 20 22.
      expectArraysClose(three.dataSync(), [10, 12, 21, 11, 20, 22, 30, 32, 41, 31, 40, 42]);
      tf.dispose([x, two, three]);
    });
  });

  it('rejects channels that do not divide into the groups', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 1, 1, 5]) as tf.Tensor4D;
      expect(() => channelShuffle(x, 2)).toThrow(/channelShuffle: 5 channels do not divide into 2 groups/);
      x.dispose();
    });
  });
});
