import { MimkdRegularizer } from '@kd/losses';
import { assertMaps, buildHead, builtIn, channelsOf } from './shared';

/** MIMKD-style local/global mutual information between the student's pooled vector and the teacher's last map. */
export const mimkd = builtIn('mimkd', {
  summary: "MIMKD-style local/global MI between the student's pooled vector and the teacher's last stage map",
  reads: { student: ['pooled'], teacher: ['lastStage'] },
  options: {
    embedDim: 'width of the critic embeddings (default 128)',
    estimator: "MI estimator, 'jsd' or 'infonce' (default 'jsd')",
    localWeight: 'weight of the local (per-position) term (default 1)',
    globalWeight: 'weight of the global term (default 1)',
  },
  create(context, options) {
    assertMaps(context.where, 'teacher', 'lastStage', [context.teacher.lastStage]);
    const head = buildHead(
      context.where,
      () =>
        new MimkdRegularizer({
          ...options,
          studentDim: channelsOf(context.student.pooled),
          teacherChannels: channelsOf(context.teacher.lastStage),
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return { heads: [head], loss: ({ student, teacher }) => head.loss(student.pooled, teacher.lastStage) };
  },
});
