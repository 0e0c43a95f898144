import { describeWithBackends, randomTensor, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { abLoss, attentionTransferLoss, factorTransferLoss, pktLoss, rkdLoss } from './index';

/** Every loss that takes an options object rejects a misspelt key, naming the function, the key and the closest known key. */
describeWithBackends('unknown option keys', () => {
  it('are rejected by the baseline losses with a did-you-mean', () => {
    const vectors = randomTensor([4, 3], 1);
    const maps = randomTensor([2, 4, 4, 3], 2);
    try {
      const cases: Array<[() => unknown, string]> = [
        [
          () => rkdLoss(vectors, vectors, { distanceWieght: 25 } as never),
          "rkdLoss: unknown option 'distanceWieght', did you mean 'distanceWeight'?",
        ],
        [
          () => pktLoss(vectors, vectors, { epsilom: 1e-7 } as never),
          "pktLoss: unknown option 'epsilom', did you mean 'epsilon'?",
        ],
        [() => abLoss(maps, maps, { margn: 1 } as never), "abLoss: unknown option 'margn', did you mean 'margin'?"],
        [
          () => attentionTransferLoss(maps, maps, { P: 2 } as never),
          "attentionTransferLoss: unknown option 'P', did you mean 'p'?",
        ],
        [
          () => factorTransferLoss(maps, maps, { p3: 1 } as never),
          "factorTransferLoss: unknown option 'p3', did you mean 'p1'?",
        ],
        [
          () => rkdLoss(vectors, vectors, { checkValue: false } as never),
          "rkdLoss: unknown option 'checkValue', did you mean 'checkValues'?",
        ],
      ];
      for (const [call, message] of cases) expect(call).toThrow(message);
    } finally {
      tf.dispose([vectors, maps]);
    }
  });
});
