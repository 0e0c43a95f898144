import { describeWithBackends } from '@kd/test-utils';
import { it } from 'vitest';
import { expectModelTableRow } from '../../test/model-table';

describeWithBackends('vgg-bn', () => {
  for (const name of ['vgg8']) {
    it(`${name}: table params and feature shapes, inference and training`, () =>
      expectModelTableRow(name, { training: true }));
  }
  for (const name of ['vgg11', 'vgg13', 'vgg16', 'vgg19']) {
    it(`${name}: table params and feature shapes`, () => expectModelTableRow(name, { training: false }));
  }
});
