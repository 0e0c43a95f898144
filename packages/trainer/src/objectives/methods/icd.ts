import { IcdRegularizer } from '@kd/losses';
import { builtIn, newHead, pooledDims } from './shared';

/** InfoNCE-style contrastive distillation of the pooled vectors (ICD). */
export const icd = builtIn('icd', {
  summary: 'InfoNCE-style contrastive distillation of the pooled vectors (ICD)',
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: {
    embedDim: 'width of the embeddings (default 128)',
    alpha: 'weight α_inv of the invariance term (default 0.5)',
  },
  referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
  create(context, options) {
    const head = newHead(context, IcdRegularizer, { ...options, ...pooledDims(context) });
    return { heads: [head], loss: ({ student, teacher }) => head.loss(student.pooled, teacher.pooled) };
  },
});
