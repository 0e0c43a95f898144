import { assertNumber } from '../validate';
import { assertKnownOptions } from '@kd/internal';

/** Learning-rate schedules of the recipes, evaluated per epoch. */
export type LearningRateSchedule =
  | {
      kind: 'step';
      /** Epochs after which the rate is multiplied by `decayFactor` (1-based: 150 means epochs ≥ 151 decay). */
      milestones?: number[];
      /** Factor the rate is multiplied by at each milestone (PyTorch `MultiStepLR`'s `gamma`). Default 0.1. */
      decayFactor?: number;
    }
  | {
      kind: 'cosine';
      /** η_min. Default 0. */
      minLearningRate?: number;
    }
  | { kind: 'constant' };

const SCHEDULE_KEYS: Record<string, readonly string[]> = {
  step: ['kind', 'milestones', 'decayFactor'],
  cosine: ['kind', 'minLearningRate'],
  constant: ['kind'],
};

/** Rejects a key the schedule's kind does not take (a misspelt or renamed key would silently be ignored). */
function assertScheduleKeys(fn: string, arg: string, schedule: unknown): void {
  const known = SCHEDULE_KEYS[String((schedule as { kind?: unknown } | null)?.kind)];
  if (known !== undefined) assertKnownOptions(fn, schedule, known, arg);
}

/** RepDistiller's milestones 150/180/210 of 240, scaled to a run of `epochs` epochs. */
export function defaultMilestones(epochs: number): number[] {
  return [150, 180, 210].map((milestone) => Math.round((milestone * epochs) / 240));
}

/**
 * The learning rate of 1-based `epoch` out of `epochs`.
 *
 * - step (RepDistiller `adjust_learning_rate`): η = η₀ · decayFactor^(#{m : epoch > m}), so with milestones
 *   150/180/210 epoch 150 still runs at η₀ and epoch 151 at 0.1·η₀.
 * - cosine (PyTorch `CosineAnnealingLR`, T_max = epochs, stepped once per epoch):
 *   η = η_min + (η₀ − η_min)·(1 + cos(π·(epoch − 1)/T_max))/2.
 *
 * @example
 * learningRateAt({ schedule: { kind: 'step' }, baseLearningRate: 0.05, epoch: 151, epochs: 240 }); // 0.005
 */
export function learningRateAt(options: {
  schedule: LearningRateSchedule;
  baseLearningRate: number;
  epoch: number;
  epochs: number;
}): number {
  assertKnownOptions('learningRateAt', options, ['schedule', 'baseLearningRate', 'epoch', 'epochs']);
  const { schedule, baseLearningRate, epoch, epochs } = options;
  const fn = 'learningRateAt';
  assertScheduleKeys(fn, 'schedule', schedule);
  assertNumber(fn, 'baseLearningRate', baseLearningRate, { nonNegative: true });
  assertNumber(fn, 'epochs', epochs, { integer: true, positive: true });
  assertNumber(fn, 'epoch', epoch, { integer: true, min: 1, max: epochs });
  switch (schedule.kind) {
    case 'constant':
      return baseLearningRate;
    case 'step': {
      const decayFactor = schedule.decayFactor ?? 0.1;
      const milestones = schedule.milestones ?? defaultMilestones(epochs);
      const passed = milestones.filter((milestone) => epoch > milestone).length;
      return baseLearningRate * decayFactor ** passed;
    }
    case 'cosine': {
      const minimum = schedule.minLearningRate ?? 0;
      return minimum + ((baseLearningRate - minimum) * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs))) / 2;
    }
    default: {
      const unknown: { kind?: unknown } = schedule;
      throw new Error(`${fn}: schedule.kind must be one of step, cosine, constant, got ${String(unknown.kind)}`);
    }
  }
}

/** Validates a schedule object (used by the trainers before training starts). */
export function validateSchedule(fn: string, arg: string, schedule: unknown, epochs: number): LearningRateSchedule {
  if (schedule === null || typeof schedule !== 'object') throw new Error(`${fn}: ${arg} must be an object`);
  const kind = (schedule as { kind?: unknown }).kind;
  assertScheduleKeys(fn, arg, schedule);
  if (kind === 'constant') return schedule as LearningRateSchedule;
  if (kind === 'cosine') {
    const { minLearningRate } = schedule as { minLearningRate?: unknown };
    if (minLearningRate !== undefined)
      assertNumber(fn, `${arg}.minLearningRate`, minLearningRate, { nonNegative: true });
    return schedule as LearningRateSchedule;
  }
  if (kind === 'step') {
    const { milestones, decayFactor } = schedule as { milestones?: unknown; decayFactor?: unknown };
    if (decayFactor !== undefined) assertNumber(fn, `${arg}.decayFactor`, decayFactor, { positive: true });
    if (milestones !== undefined) {
      if (!Array.isArray(milestones)) throw new Error(`${fn}: ${arg}.milestones must be an array of epochs`);
      milestones.forEach((milestone, index) =>
        assertNumber(fn, `${arg}.milestones[${index}]`, milestone, { integer: true, min: 0, max: epochs }),
      );
    }
    return schedule as LearningRateSchedule;
  }
  throw new Error(`${fn}: ${arg}.kind must be one of step, cosine, constant, got ${String(kind)}`);
}
