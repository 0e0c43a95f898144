import type * as tf from '@tensorflow/tfjs-core';
import { FitNetRegularizer } from '@kd/losses';
import { assertNumber } from '../../validate';
import type { ReadFeatures } from '../types';
import { assertMaps, buildHead, builtIn, mapShape } from './shared';

/** The hint map: entry `hintLayer` of `[stem, ...stages]` (RepDistiller's `feat[hint_layer]`). */
function hintOf(features: ReadFeatures<'stem' | 'stages'>, hintLayer: number): tf.Tensor {
  return hintLayer === 0 ? features.stem : (features.stages[hintLayer - 1] as tf.Tensor);
}

/** FitNet (Romero et al. 2015): hint MSE through a trained regressor. */
export const fitnet = builtIn('fitnet', {
  summary: 'FitNet hint with a trained regressor on map hintLayer of [stem, ...stages] (default 2)',
  reads: { student: ['stem', 'stages'], teacher: ['stem', 'stages'] },
  options: { hintLayer: "which map of [stem, ...stages] is the hint (RepDistiller's hint_layer; default 2)" },
  referenceWeights: { gamma: 1, alpha: 0, beta: 100 },
  create(context, options) {
    const { where } = context;
    const maps = [context.student.stem, ...context.student.stages];
    const hintLayer = assertNumber(where, 'options.hintLayer', options.hintLayer ?? 2, {
      integer: true,
      min: 0,
      max: maps.length - 1,
    });
    const studentShape = maps[hintLayer]!;
    const teacherShape = [context.teacher.stem, ...context.teacher.stages][hintLayer];
    if (teacherShape === undefined) {
      throw new Error(
        `${where}: hintLayer ${hintLayer} needs ${hintLayer + 1} maps of [stem, ...stages] from the teacher, ` +
          `it has ${context.teacher.stages.length + 1}`,
      );
    }
    assertMaps(where, 'student', `hint map (hintLayer ${hintLayer})`, [studentShape]);
    assertMaps(where, 'teacher', `hint map (hintLayer ${hintLayer})`, [teacherShape]);
    const head = buildHead(
      where,
      () =>
        new FitNetRegularizer({
          studentShape: mapShape(studentShape),
          teacherShape: mapShape(teacherShape),
          seed: context.seed,
        checkValues: context.checkValues,
        }),
    );
    return {
      heads: [head],
      loss: ({ student, teacher }) => head.loss(hintOf(student, hintLayer), hintOf(teacher, hintLayer)),
    };
  },
});
