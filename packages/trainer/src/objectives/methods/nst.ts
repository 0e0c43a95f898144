import { nstLoss } from '@kd/losses';
import { assertMaps, assertSameCount, builtIn, stateless } from './shared';

/** Neuron selectivity transfer (Huang & Wang 2017): polynomial-kernel MMD on every stage output. */
export const nst = builtIn('nst', {
  summary: 'neuron selectivity transfer (polynomial MMD) on every stage output',
  reads: { student: ['stages'], teacher: ['stages'] },
  options: {},
  referenceWeights: { gamma: 1, alpha: 0, beta: 50 },
  create({ where, student, teacher, checkValues }) {
    assertMaps(where, 'student', 'stages', student.stages);
    assertMaps(where, 'teacher', 'stages', teacher.stages);
    assertSameCount(where, 'stages', student.stages, teacher.stages);
    return stateless(({ student, teacher }) => nstLoss(student.stages, teacher.stages, { checkValues }));
  },
});
