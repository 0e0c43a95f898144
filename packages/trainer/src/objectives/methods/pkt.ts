import { pktLoss } from '@kd/losses';
import { builtIn, stateless } from './shared';

/** Probabilistic knowledge transfer (Passalis & Tefas 2018) on the pooled vectors. */
export const pkt = builtIn('pkt', {
  summary: 'probabilistic knowledge transfer on the pooled vector',
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: { epsilon: 'added to norms and probabilities (default 1e-7)' },
  referenceWeights: { gamma: 1, alpha: 0, beta: 30000 },
  create: ({ checkValues }, options) =>
    stateless(({ student, teacher }) => pktLoss(student.pooled, teacher.pooled, { ...options, checkValues })),
});
