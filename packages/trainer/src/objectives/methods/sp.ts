import { similarityPreservingLoss } from '@kd/losses';
import { assertMaps, builtIn, stateless } from './shared';

/** Similarity preserving (Tung & Mori 2019) on the last stage's map. */
export const sp = builtIn('sp', {
  summary: "similarity preserving on the last stage's map",
  reads: { student: ['lastStage'], teacher: ['lastStage'] },
  options: {},
  referenceWeights: { gamma: 1, alpha: 0, beta: 3000 },
  create({ where, student, teacher, checkValues }) {
    assertMaps(where, 'student', 'lastStage', [student.lastStage]);
    assertMaps(where, 'teacher', 'lastStage', [teacher.lastStage]);
    return stateless(({ student, teacher }) =>
      similarityPreservingLoss(student.lastStage, teacher.lastStage, { checkValues }),
    );
  },
});
