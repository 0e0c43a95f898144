import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { formatTick, niceTicks, renderLinePlot } from './line-plot';

describeWithBackends('renderLinePlot', () => {
  it('picks 1-2-5 tick steps', () => {
    expect(niceTicks(0, 1)).toEqual({ step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect(niceTicks(0, 97)).toEqual({ step: 20, ticks: [0, 20, 40, 60, 80] });
    expect(niceTicks(-0.33, 0.33, 3).ticks).toEqual([-0.2, 0, 0.2]);
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(200000, 50000)).toBe('2.0e+5');
  });

  it('draws each series at its height: a higher y is a smaller row', () => {
    const red = [230, 0, 0] as const;
    const blue = [0, 0, 230] as const;
    const green = [0, 160, 0] as const;
    const plot = renderLinePlot({
      series: [
        {
          name: 'low',
          points: [
            [0, 0.25],
            [10, 0.25],
          ],
          color: red,
        },
        {
          name: 'high',
          points: [
            [0, 0.75],
            [10, 0.75],
          ],
          color: blue,
        },
        {
          name: 'middle',
          points: [
            [0, 0.5],
            [10, 0.5],
          ],
          color: green,
        },
      ],
      width: 200,
      height: 150,
      yRange: [0, 1],
      title: 'curves',
      xLabel: 'epoch',
    });
    expect([plot.width, plot.height, plot.channels]).toEqual([200, 150, 4]);
    const rowCounts = (color: readonly number[]) => {
      const counts = new Array<number>(plot.height).fill(0);
      for (let y = 0; y < plot.height; y++) {
        for (let x = 0; x < plot.width; x++) {
          const offset = (y * plot.width + x) * 4;
          if (
            plot.data[offset] === color[0] &&
            plot.data[offset + 1] === color[1] &&
            plot.data[offset + 2] === color[2]
          )
            counts[y] = (counts[y] ?? 0) + 1;
        }
      }
      return counts;
    };
    const busiest = (counts: number[]) => counts.indexOf(Math.max(...counts));
    const redRow = busiest(rowCounts(red));
    const blueRow = busiest(rowCounts(blue));
    expect(Math.max(...rowCounts(red))).toBeGreaterThan(100); // a horizontal line across the plot
    expect(redRow).toBeGreaterThan(blueRow);
    // The y axis is linear: y = 0.5 is drawn halfway between y = 0.25 and y = 0.75.
    expect(Math.abs(2 * busiest(rowCounts(green)) - (redRow + blueRow))).toBeLessThanOrEqual(2);
  });

  it('breaks the line at a non-finite y instead of failing', () => {
    const plot = renderLinePlot({
      series: [
        {
          name: 'diverged',
          points: [
            [0, 1],
            [1, NaN],
            [2, 1],
          ],
        },
      ],
      width: 120,
      height: 90,
    });
    expect(plot.data.length).toBe(120 * 90 * 4);
  });

  it('rejects bad input', () => {
    expect(() => renderLinePlot({ series: [] })).toThrow('renderLinePlot: series must be a non-empty array');
    expect(() => renderLinePlot({ series: [{ name: 'a', points: [[NaN, 1]] }] })).toThrow(
      'renderLinePlot: series[0].points[0] has a non-finite x (NaN)',
    );
    expect(() => renderLinePlot({ series: [{ name: 'a', points: [[0, NaN]] }] })).toThrow(
      'renderLinePlot: no series has a point with finite x and y',
    );
    expect(() => renderLinePlot({ series: [{ name: 'a', points: [[0, 1]] }], width: 10 })).toThrow(
      'renderLinePlot: width must be >= 64',
    );
  });
});
