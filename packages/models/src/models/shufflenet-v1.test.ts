import { describeWithBackends } from '@kd/test-utils';
import { it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';

describeWithBackends('shufflenet v1', () => {
  for (const name of ['shufflev1']) {
    it(`${name}: table params and feature shapes, inference and training`, () =>
      expectModelTableRow(name, { training: true }));
  }
  for (const name of []) {
    it(`${name}: table params and feature shapes`, () => expectModelTableRow(name, { training: false }));
  }
});
