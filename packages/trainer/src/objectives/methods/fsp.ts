import * as tf from '@tensorflow/tfjs-core';
import { fspLoss } from '@kd/losses';
import { PRE_STAGE_OPTIONS, assertMaps, assertSameCount, builtIn, channelsOf, preStageSettings } from './shared';

/**
 * Flow of solution procedure (Yim et al. 2017): RepDistiller's pre-stage on the FSP matrices of consecutive
 * maps of `[stem, ...stages]`, then no main-stage term.
 */
export const fsp = builtIn('fsp', {
  summary:
    'flow of solution procedure: pre-stage on FSP matrices of [stem, ...stages], ' +
    'then no main-stage term (RepDistiller)',
  reads: { student: ['stem', 'stages'], teacher: ['stem', 'stages'] },
  options: { ...PRE_STAGE_OPTIONS },
  referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
  create(context, options) {
    const { where } = context;
    const studentMaps = [context.student.stem, ...context.student.stages];
    const teacherMaps = [context.teacher.stem, ...context.teacher.stages];
    assertMaps(where, 'student', 'stem and stages', studentMaps);
    assertMaps(where, 'teacher', 'stem and stages', teacherMaps);
    assertSameCount(where, 'stem and stage maps', studentMaps, teacherMaps);
    studentMaps.forEach((shape, position) => {
      const studentChannels = channelsOf(shape);
      const teacherChannels = channelsOf(teacherMaps[position]!);
      if (studentChannels !== teacherChannels) {
        throw new Error(
          `${where}: FSP needs equal channels per map; ` +
            `map ${position} has student ${studentChannels}, teacher ${teacherChannels}`,
        );
      }
    });
    return {
      inMainStage: false,
      preStage: {
        ...preStageSettings(context, options),
        variables: context.studentVariables,
        needsStudent: true,
        loss: ({ student, teacher }) =>
          fspLoss([student.stem, ...student.stages], [teacher.stem, ...teacher.stages], {
            checkValues: context.checkValues,
          }),
      },
      loss: () => tf.scalar(0),
    };
  },
});
