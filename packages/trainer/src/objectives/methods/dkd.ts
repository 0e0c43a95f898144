import * as tf from '@tensorflow/tfjs-core';
import { dkdLoss } from '@kd/losses';
import { assertNumber } from '../../validate';
import { builtIn, stateless } from './shared';

/** Decoupled KD (mdistiller): min(epoch / warmupEpochs, 1)·(α·TCKD + β·NCKD). */
export const dkd = builtIn('dkd', {
  summary: 'decoupled KD (α·TCKD + β·NCKD) times the warm-up min(epoch/warmupEpochs, 1), warmupEpochs = 20',
  reads: { student: [], teacher: [] },
  options: {
    alpha: 'weight of TCKD (default 1)',
    beta: 'weight of NCKD (default 8)',
    temperature: 'softmax temperature T (default 4)',
    warmupEpochs: 'the term is multiplied by min(epoch / warmupEpochs, 1) (default 20; 0 = off)',
  },
  referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
  create(context, { warmupEpochs: warmup, ...lossOptions }) {
    // mdistiller's DKD multiplies the term by min(epoch / 20, 1) (epochs 1-based); warmupEpochs 0 turns it off.
    const warmupEpochs = assertNumber(context.where, 'options.warmupEpochs', warmup ?? 20, {
      integer: true,
      nonNegative: true,
    });
    return stateless(({ student, teacher, labels, epoch }) => {
      const loss = dkdLoss(student.logits, teacher.logits, labels, {
        ...lossOptions,
        checkValues: context.checkValues,
      });
      return warmupEpochs === 0 ? loss : (tf.mul(Math.min(epoch / warmupEpochs, 1), loss) as tf.Scalar);
    });
  },
});
