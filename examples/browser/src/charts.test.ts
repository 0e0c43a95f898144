import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { chartData, pointCount, stageOffsets } from './charts';
import { presetConfig } from './presets';
import type { EpochEntry, Stage } from './protocol';

const entry = (stage: Stage, epoch: number, teacherCmi?: number): EpochEntry => ({
  stage,
  epoch,
  losses: { total: epoch, ce: epoch / 2 },
  trainAccuracy: 0.5,
  testAccuracy: 0.25,
  ...(teacherCmi === undefined ? {} : { teacherCmi }),
  imagesPerSecond: 10,
  seconds: 1,
});

describeWithBackends('charts', () => {
  it('puts the stages one after the other on one epoch axis', () => {
    // smoke: teacher 2, MCMI 2, students 2 each.
    expect(stageOffsets(presetConfig('smoke'))).toEqual({
      'teacher-mll': 0,
      'teacher-mcmi': 2,
      'student-from-mll': 4,
      'student-from-mcmi': 6,
    });
  });

  it('one CMI point per teacher epoch, in epoch order whatever the arrival order', () => {
    const epochs = [
      entry('teacher-mcmi', 1, 0.3),
      entry('teacher-mll', 2, 0.2),
      entry('teacher-mll', 1, 0.1),
      entry('student-from-mll', 1),
    ];
    const data = chartData(epochs, presetConfig('smoke'));
    expect(data.cmi).toEqual([
      {
        name: 'MLL teacher',
        points: [
          [1, 0.1],
          [2, 0.2],
        ],
      },
      { name: 'MCMI teacher', points: [[3, 0.3]] },
    ]);
    expect(pointCount(data.cmi)).toBe(3);
    // Two loss parts and two accuracies per epoch.
    expect(pointCount(data.loss)).toBe(8);
    expect(pointCount(data.accuracy)).toBe(8);
    expect(data.accuracy.find((series) => series.name === 'student of MLL test')?.points).toEqual([[5, 0.25]]);
    expect(chartData([], presetConfig('smoke'))).toEqual({ loss: [], accuracy: [], cmi: [] });
  });
});
