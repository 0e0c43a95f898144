import { encodePng, renderGrid, renderLinePlot, type LineSeries, type RasterImage } from '@kd/plot';
import type { EpochRecord } from './epoch-record';

/**
 * `curves.png`: three line plots side by side (`@kd/plot`'s renderer) over the epochs so far —
 * the training loss (total and each weighted part), the accuracies (training, test top-1, test top-5, in %),
 * and the task's extra metrics (teacher CMI, …) when there are any.
 */
export function renderTrainingCurves(history: readonly EpochRecord[]): Uint8Array {
  const epochs = history.map((record) => record.epoch);
  const seriesOf = (name: string, values: (number | undefined)[]): LineSeries => ({
    name,
    points: values.map((value, index) => [epochs[index] as number, value ?? Number.NaN] as const),
  });
  const hasPoint = (series: LineSeries) => series.points.some(([, y]) => Number.isFinite(y));
  const panels: RasterImage[] = [];
  // A panel with no finite value (e.g. accuracy in FT's pre-stage, which runs no student) is left out.
  const addPanel = (title: string, series: LineSeries[]) => {
    const drawable = series.filter(hasPoint);
    if (drawable.length > 0)
      panels.push(renderLinePlot({ title, xLabel: 'epoch', series: drawable, width: 400, height: 300 }));
  };
  const lossNames = [...new Set(history.flatMap((record) => Object.keys(record.train.losses)))];
  addPanel(
    'training loss',
    lossNames.map((name) =>
      seriesOf(
        name,
        history.map((record) => record.train.losses[name]),
      ),
    ),
  );
  addPanel('accuracy %', [
    seriesOf(
      'train',
      history.map((record) => 100 * record.train.accuracy),
    ),
    seriesOf(
      'test top-1',
      history.map((record) => (record.test ? 100 * record.test.top1 : undefined)),
    ),
    seriesOf(
      'test top-5',
      history.map((record) => (record.test ? 100 * record.test.top5 : undefined)),
    ),
  ]);
  const extraNames = [...new Set(history.flatMap((record) => Object.keys(record.extra)))];
  addPanel(
    'extra',
    extraNames.map((name) =>
      seriesOf(
        name,
        history.map((record) => record.extra[name]),
      ),
    ),
  );
  if (panels.length === 0) throw new Error('renderTrainingCurves: no finite value to plot');
  return encodePng(renderGrid({ rows: [{ label: '', images: panels }] }));
}
