import { describeWithBackends } from '@kd/test-utils';
import { it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';

describeWithBackends('wide resnets', () => {
  for (const name of ['wrn16_1', 'wrn16_2']) {
    it(`${name}: table params and feature shapes, inference and training`, () =>
      expectModelTableRow(name, { training: true }));
  }
  for (const name of ['wrn40_1', 'wrn40_2']) {
    it(`${name}: table params and feature shapes`, () => expectModelTableRow(name, { training: false }));
  }
});
