import { rkdLoss } from '@kd/losses';
import { builtIn, stateless } from './shared';

/** Relational KD (Park et al. 2019) on the pooled vectors. */
export const rkd = builtIn('rkd', {
  summary: 'relational KD (distance 25 + angle 50) on the pooled vector',
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: {
    distanceWeight: 'weight of the distance term (default 25)',
    angleWeight: 'weight of the angle term (default 50)',
  },
  referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
  create: ({ checkValues }, options) =>
    stateless(({ student, teacher }) => rkdLoss(student.pooled, teacher.pooled, { ...options, checkValues })),
});
