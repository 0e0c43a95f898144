import * as tf from '@tensorflow/tfjs-core';
import { FitNetRegularizer, abLoss } from '@kd/losses';
import { offsetSeed } from '../../engine/options';
import {
  PRE_STAGE_OPTIONS,
  assertSameCount,
  buildHead,
  builtIn,
  mapShape,
  preStageSettings,
  withoutPreStage,
} from './shared';

/**
 * Activation boundaries (Heo et al. 2019): RepDistiller's pre-stage on the pre-activations, with a connector
 * per pair whose shapes differ, then no main-stage term.
 */
export const ab = builtIn('ab', {
  summary:
    'activation boundaries: pre-stage on the pre-activations (connectors where shapes differ), then no main-stage term',
  reads: { student: ['preactivations'], teacher: ['preactivations'] },
  options: { margin: 'margin μ of the boundary loss (default 1)', ...PRE_STAGE_OPTIONS },
  referenceWeights: { gamma: 1, alpha: 0, beta: 0 },
  create(context, options) {
    const { where } = context;
    const studentShapes = context.student.preactivations;
    const teacherShapes = context.teacher.preactivations;
    assertSameCount(where, 'preactivations', studentShapes, teacherShapes);
    // RepDistiller's Connector: per pair, the identity when the shapes match, otherwise the FitNet regressor
    // (chosen by the spatial sizes; a 1×1 conv for a channel-only difference) followed by BN without ReLU.
    const connectors = studentShapes.map((shape, index) => {
      const teacherShape = teacherShapes[index]!;
      if (shape.slice(1).join(',') === teacherShape.slice(1).join(',')) return undefined;
      if (shape.length !== 4 || teacherShape.length !== 4) {
        throw new Error(
          `${where}: preactivations[${index}] has student shape [${shape.join(',')}] and teacher shape ` +
            `[${teacherShape.join(',')}]; a connector needs [N, H, W, C] maps on both sides`,
        );
      }
      return buildHead(
        `${where}: preactivations[${index}]`,
        () =>
          new FitNetRegularizer({
            studentShape: mapShape(shape),
            teacherShape: mapShape(teacherShape),
            activation: 'none',
            seed: offsetSeed(context.seed, index),
            checkValues: context.checkValues,
          }),
      );
    });
    const heads = connectors.filter((connector): connector is FitNetRegularizer => connector !== undefined);
    const abOptions = { ...withoutPreStage(options), checkValues: context.checkValues };
    return {
      heads,
      inMainStage: false,
      preStage: {
        ...preStageSettings(context, options),
        // RepDistiller's init() trains the connectors with the student's feature modules.
        variables: [...context.studentVariables, ...heads.flatMap((head) => head.trainableVariables)],
        needsStudent: true,
        loss: ({ student, teacher }) =>
          abLoss(
            student.preactivations.map((feature, index) => connectors[index]?.regress(feature) ?? feature),
            teacher.preactivations,
            abOptions,
          ),
      },
      loss: () => tf.scalar(0),
    };
  },
});
