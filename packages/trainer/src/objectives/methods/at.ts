import { attentionTransferLoss } from '@kd/losses';
import { assertMaps, assertSameCount, builtIn, stateless } from './shared';

/** Attention transfer (Zagoruyko & Komodakis 2017) on every stage output. */
export const at = builtIn('at', {
  summary: 'attention transfer on every stage output, p = 2',
  reads: { student: ['stages'], teacher: ['stages'] },
  options: { p: 'exponent of the attention map Σ_c |a_c|^p (default 2)' },
  referenceWeights: { gamma: 1, alpha: 0, beta: 1000 },
  create({ where, student, teacher, checkValues }, options) {
    assertMaps(where, 'student', 'stages', student.stages);
    assertMaps(where, 'teacher', 'stages', teacher.stages);
    assertSameCount(where, 'stages', student.stages, teacher.stages);
    return stateless(({ student, teacher }) =>
      attentionTransferLoss(student.stages, teacher.stages, { ...options, checkValues }),
    );
  },
});
