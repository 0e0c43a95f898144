import { describeWithBackends } from '@kd/test-utils';
import { it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';

describeWithBackends('mobilenetv2', () => {
  for (const name of ['mobilenetv2']) {
    it(`${name}: table params and feature shapes, inference and training`, () =>
      expectModelTableRow(name, { training: true }));
  }
  for (const name of []) {
    it(`${name}: table params and feature shapes`, () => expectModelTableRow(name, { training: false }));
  }
});
