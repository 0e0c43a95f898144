import { IcdRegularizer } from '@kd/losses';
import { buildHead, builtIn, channelsOf } from './shared';

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
    const head = buildHead(
      context.where,
      () =>
        new IcdRegularizer({
          ...options,
          studentDim: channelsOf(context.student.pooled),
          teacherDim: channelsOf(context.teacher.pooled),
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return { heads: [head], loss: ({ student, teacher }) => head.loss(student.pooled, teacher.pooled) };
  },
});
