import { crossEntropy } from '@kd/losses';
import { builtIn, stateless } from './shared';

/** Cross-entropy with the labels: L = −mean log softmax(z)_y. */
export const ce = builtIn('ce', {
  summary: 'cross-entropy with the labels (γ)',
  reads: { student: [], teacher: [] },
  options: {},
  referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
  create: ({ checkValues }) =>
    stateless(({ student, labels }) => crossEntropy(student.logits, labels, { checkValues })),
});
