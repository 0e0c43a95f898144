import * as tf from '@tensorflow/tfjs-core';
import { VidRegularizer, VidVectorRegularizer } from '@kd/losses';
import { offsetSeed } from '../../engine/options';
import { assertMaps, assertSameCount, buildHead, builtIn, channelsOf, mapShape } from './shared';

/**
 * Variational information distillation (Ahn et al. 2019): one head per stage pair. A non-spatial student (an
 * MLP's `[N, D]` hidden vectors) gets VID's CNN → MLP head, a linear map from the vector onto the whole
 * teacher map with one variance per teacher channel (`VidVectorRegularizer`).
 */
export const vid = builtIn('vid', {
  summary: "variational information distillation, one head per stage output; an MLP student's hidden vectors too",
  reads: { student: ['stages'], teacher: ['stages'] },
  options: {
    hiddenChannels: 'width of the 1×1-conv regressor (conv students; default the teacher channels)',
    initialVariance: 'initial per-channel variance (default 5)',
    epsilon: 'added to the variance (default 1e-5)',
  },
  referenceWeights: { gamma: 1, alpha: 0, beta: 1 },
  create(context, options) {
    const { where } = context;
    const studentStages = context.student.stages;
    const teacherStages = context.teacher.stages;
    assertMaps(where, 'student', 'stages', studentStages, { allowVectors: true });
    assertMaps(where, 'teacher', 'stages', teacherStages);
    assertSameCount(where, 'stages', studentStages, teacherStages);
    const vectorIndex = studentStages.findIndex((shape) => shape.length === 2);
    if (vectorIndex >= 0 && options.hiddenChannels !== undefined) {
      throw new Error(
        `${where}: hiddenChannels applies to conv students; ` +
          `student.stages[${vectorIndex}] is a vector [${studentStages[vectorIndex]!.join(',')}]`,
      );
    }
    const heads: Array<VidRegularizer | VidVectorRegularizer> = studentStages.map((studentShape, position) => {
      const teacherShape = teacherStages[position]!;
      const seed = offsetSeed(context.seed, position);
      const { checkValues } = context;
      if (studentShape.length === 2) {
        const { hiddenChannels: _conv, ...vectorOptions } = options;
        return buildHead(
          where,
          () =>
            new VidVectorRegularizer({
              ...vectorOptions,
              studentDim: channelsOf(studentShape),
              teacherShape: mapShape(teacherShape),
              seed,
              checkValues,
            }),
        );
      }
      return buildHead(
        where,
        () =>
          new VidRegularizer({
            ...options,
            studentChannels: channelsOf(studentShape),
            teacherChannels: channelsOf(teacherShape),
            seed,
            checkValues,
          }),
      );
    });
    return {
      heads,
      loss: ({ student, teacher }) =>
        tf.addN(
          heads.map((head, position) =>
            head.loss(student.stages[position] as tf.Tensor, teacher.stages[position] as tf.Tensor),
          ),
        ) as tf.Scalar,
    };
  },
});
