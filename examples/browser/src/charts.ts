/**
 * The live charts' data: one x axis for the whole run (the stages' epochs in order: MLL teacher, MCMI
 * fine-tune, then each student), so every point of every chart is one finished epoch. Drawn with @kd/plot's
 * own line-plot renderer.
 */
import type { LineSeries } from '@kd/plot';
import type { RunConfig } from './presets';
import { STAGES, type EpochEntry, type Stage } from './protocol';

const SHORT: Record<Stage, string> = {
  'teacher-mll': 'MLL teacher',
  'teacher-mcmi': 'MCMI teacher',
  'student-from-mll': 'student of MLL',
  'student-from-mcmi': 'student of MCMI',
};

/** The run-wide x of each stage's first epoch minus one. */
export function stageOffsets(config: RunConfig): Record<Stage, number> {
  const counts: Record<Stage, number> = {
    'teacher-mll': config.teacherEpochs,
    'teacher-mcmi': config.mcmiEpochs,
    'student-from-mll': config.studentEpochs,
    'student-from-mcmi': config.studentEpochs,
  };
  let offset = 0;
  const offsets = {} as Record<Stage, number>;
  for (const stage of STAGES) {
    offsets[stage] = offset;
    offset += counts[stage];
  }
  return offsets;
}

export interface ChartData {
  loss: LineSeries[];
  accuracy: LineSeries[];
  cmi: LineSeries[];
}

/** Series of the three charts; a chart with no point yet has no series. */
export function chartData(epochs: readonly EpochEntry[], config: RunConfig): ChartData {
  const offsets = stageOffsets(config);
  const sorted = [...epochs].sort((a, b) => offsets[a.stage] + a.epoch - (offsets[b.stage] + b.epoch));
  const loss = new Map<string, Array<[number, number]>>();
  const accuracy = new Map<string, Array<[number, number]>>();
  const cmi = new Map<string, Array<[number, number]>>();
  const add = (map: Map<string, Array<[number, number]>>, name: string, x: number, y: number) => {
    const points = map.get(name) ?? [];
    points.push([x, y]);
    map.set(name, points);
  };
  for (const entry of sorted) {
    const x = offsets[entry.stage] + entry.epoch;
    const name = SHORT[entry.stage];
    for (const [part, value] of Object.entries(entry.losses)) add(loss, `${name} ${part}`, x, value);
    add(accuracy, `${name} train`, x, entry.trainAccuracy);
    add(accuracy, `${name} test`, x, entry.testAccuracy);
    if (entry.teacherCmi !== undefined) add(cmi, name, x, entry.teacherCmi);
  }
  const series = (map: Map<string, Array<[number, number]>>): LineSeries[] =>
    [...map].map(([name, points]) => ({ name, points }));
  return { loss: series(loss), accuracy: series(accuracy), cmi: series(cmi) };
}

/** Number of points over all series of a chart. */
export function pointCount(series: readonly LineSeries[]): number {
  return series.reduce((sum, each) => sum + each.points.length, 0);
}
