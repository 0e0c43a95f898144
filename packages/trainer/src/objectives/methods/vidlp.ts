import { VidLpRegularizer } from '@kd/losses';
import { buildHead, builtIn, channelsOf } from './shared';

/** VID-LP: the teacher's logits predicted from the student's pooled vector (Gaussian NLL). */
export const vidlp = builtIn('vidlp', {
  summary: "VID-LP: the teacher's logits from the student's pooled vector",
  reads: { student: ['pooled'], teacher: [] },
  options: {
    initialVariance: 'initial per-logit variance (default 5)',
    epsilon: 'added to the variance (default 1e-5)',
  },
  create(context, options) {
    const head = buildHead(
      context.where,
      () =>
        new VidLpRegularizer({
          ...options,
          studentDim: channelsOf(context.student.pooled),
          teacherDim: context.numClasses,
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return { heads: [head], loss: ({ student, teacher }) => head.loss(student.pooled, teacher.logits) };
  },
});
