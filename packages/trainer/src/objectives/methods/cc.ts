import { CorrelationCongruenceRegularizer } from '@kd/losses';
import { buildHead, builtIn, channelsOf } from './shared';

/** Correlation congruence (Peng et al. 2019) with trained embeddings of the pooled vectors. */
export const cc = builtIn('cc', {
  summary: 'correlation congruence with trained embeddings of the pooled vectors',
  reads: { student: ['pooled'], teacher: ['pooled'] },
  options: { embedDim: 'width of the embeddings (default 128)' },
  referenceWeights: { gamma: 1, alpha: 0, beta: 0.02 },
  create(context, options) {
    const head = buildHead(
      context.where,
      () =>
        new CorrelationCongruenceRegularizer({
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
