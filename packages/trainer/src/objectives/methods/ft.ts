import { FactorTransferRegularizer } from '@kd/losses';
import { modelRecipe } from '@kd/models';
import {
  PRE_STAGE_OPTIONS,
  assertMaps,
  buildHead,
  builtIn,
  channelsOf,
  preStageSettings,
  withoutPreStage,
} from './shared';

/**
 * Factor transfer (Kim et al. 2018): a paraphraser pre-stage on the teacher's last stage map, then the
 * translator and the FT loss.
 */
export const ft = builtIn('ft', {
  summary: "factor transfer: paraphraser pre-stage on the teacher's last stage map, then translator + FT loss",
  reads: { student: ['lastStage'], teacher: ['lastStage'] },
  options: { rate: 'paraphrase rate k (default 0.5)', ...PRE_STAGE_OPTIONS },
  referenceWeights: { gamma: 1, alpha: 0, beta: 200 },
  create(context, options) {
    const { where } = context;
    assertMaps(where, 'student', 'lastStage', [context.student.lastStage]);
    assertMaps(where, 'teacher', 'lastStage', [context.teacher.lastStage]);
    const head = buildHead(
      where,
      () =>
        new FactorTransferRegularizer({
          ...withoutPreStage(options),
          studentChannels: channelsOf(context.student.lastStage),
          teacherChannels: channelsOf(context.teacher.lastStage),
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return {
      heads: [head],
      preStage: {
        ...preStageSettings(
          context,
          options,
          modelRecipe(context.studentName).paraphraserLearningRate ?? context.learningRate,
        ),
        variables: head.paraphraserVariables,
        needsStudent: false,
        loss: ({ teacher }) => head.reconstructionLoss(teacher.lastStage),
      },
      loss: ({ student, teacher }) => head.loss(student.lastStage, teacher.lastStage),
    };
  },
});
