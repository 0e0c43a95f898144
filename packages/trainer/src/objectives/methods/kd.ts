import { kdLoss } from '@kd/losses';
import { builtIn, stateless } from './shared';

/** Hinton's KD on the logits: L = T²·KL(softmax(t/T) ‖ softmax(s/T)). */
export const kd = builtIn('kd', {
  summary: 'Hinton KD, T²·KL(softmax(t/T) ‖ softmax(s/T)), T = 4',
  reads: { student: [], teacher: [] },
  options: { temperature: 'softmax temperature T (default 4)' },
  referenceWeights: { gamma: 0.1, alpha: 0.9, beta: 0 },
  create: ({ checkValues }, options) =>
    stateless(({ student, teacher }) => kdLoss(student.logits, teacher.logits, { ...options, checkValues })),
});
