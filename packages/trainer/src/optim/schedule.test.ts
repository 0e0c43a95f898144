import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { defaultMilestones, learningRateAt } from './schedule';

describeWithBackends('learningRateAt', () => {
  it('step decay: 0.1 after 150/180/210 of 240, epochs 1-based', () => {
    const at = (epoch: number) => learningRateAt({ schedule: { kind: 'step' }, baseLearningRate: 0.05, epoch, epochs: 240 });
    expect(at(1)).toBe(0.05);
    expect(at(150)).toBe(0.05);
    expect(at(151)).toBeCloseTo(0.005, 12);
    expect(at(181)).toBeCloseTo(0.0005, 12);
    expect(at(210)).toBeCloseTo(0.0005, 12);
    expect(at(211)).toBeCloseTo(0.00005, 12);
    expect(defaultMilestones(240)).toEqual([150, 180, 210]);
    expect(defaultMilestones(24)).toEqual([15, 18, 21]);
  });

  it('cosine: CosineAnnealingLR(T_max = epochs) stepped per epoch', () => {
    const at = (epoch: number) => learningRateAt({ schedule: { kind: 'cosine' }, baseLearningRate: 0.05, epoch, epochs: 20 });
    expect(at(1)).toBe(0.05);
    expect(at(11)).toBeCloseTo(0.025, 12);
    expect(at(20)).toBeCloseTo(0.05 * (1 + Math.cos((Math.PI * 19) / 20)) / 2, 12);
  });

  it('rejects epochs outside [1, epochs]', () => {
    expect(() => learningRateAt({ schedule: { kind: 'cosine' }, baseLearningRate: 0.1, epoch: 0, epochs: 3 })).toThrow(
      'learningRateAt: epoch must be >= 1',
    );
  });
});
