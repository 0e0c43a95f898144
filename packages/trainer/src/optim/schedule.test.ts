import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { defaultMilestones, learningRateAt, validateSchedule } from './schedule';

describeWithBackends('learningRateAt', () => {
  it('step decay: 0.1 after 150/180/210 of 240, epochs 1-based', () => {
    const at = (epoch: number) =>
      learningRateAt({ schedule: { kind: 'step' }, baseLearningRate: 0.05, epoch, epochs: 240 });
    expect(at(1)).toBe(0.05);
    expect(at(150)).toBe(0.05);
    expect(at(151)).toBeCloseTo(0.005, 12);
    expect(at(181)).toBeCloseTo(0.0005, 12);
    expect(at(210)).toBeCloseTo(0.0005, 12);
    expect(at(211)).toBeCloseTo(0.00005, 12);
    expect(defaultMilestones(240)).toEqual([150, 180, 210]);
    expect(defaultMilestones(24)).toEqual([15, 18, 21]);
  });

  it('step decay: the rate is η₀·decayFactor^k after k milestones', () => {
    const schedule = { kind: 'step' as const, milestones: [2, 4], decayFactor: 0.5 };
    const at = (epoch: number) => learningRateAt({ schedule, baseLearningRate: 0.08, epoch, epochs: 6 });
    expect([1, 2, 3, 4, 5, 6].map(at)).toEqual([0.08, 0.08, 0.04, 0.04, 0.02, 0.02]);
  });

  it('rejects a key the schedule kind does not take (gamma is decayFactor)', () => {
    const stepWithGamma = { kind: 'step', gamma: 0.5 } as never;
    expect(() => learningRateAt({ schedule: stepWithGamma, baseLearningRate: 0.1, epoch: 1, epochs: 3 })).toThrow(
      "learningRateAt: unknown option 'gamma' in schedule",
    );
    expect(() => validateSchedule('trainSupervised', 'schedule', stepWithGamma, 3)).toThrow(
      /^trainSupervised: unknown option 'gamma' in schedule.*known options: kind, milestones, decayFactor/,
    );
    expect(() => validateSchedule('trainSupervised', 'schedule', { kind: 'step', decayFactor: 0 }, 3)).toThrow(
      'trainSupervised: schedule.decayFactor',
    );
  });

  it('cosine: CosineAnnealingLR(T_max = epochs) stepped per epoch', () => {
    const at = (epoch: number) =>
      learningRateAt({ schedule: { kind: 'cosine' }, baseLearningRate: 0.05, epoch, epochs: 20 });
    expect(at(1)).toBe(0.05);
    expect(at(11)).toBeCloseTo(0.025, 12);
    expect(at(20)).toBeCloseTo((0.05 * (1 + Math.cos((Math.PI * 19) / 20))) / 2, 12);
  });

  it('rejects epochs outside [1, epochs]', () => {
    expect(() => learningRateAt({ schedule: { kind: 'cosine' }, baseLearningRate: 0.1, epoch: 0, epochs: 3 })).toThrow(
      'learningRateAt: epoch must be >= 1',
    );
  });
});
