import { crc32 } from '@kd/internal';
import { decodePng } from '@kd/plot';
import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { renderTrainingCurves } from './curves';
import { formatProgressLine } from './progress';

describeWithBackends('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describeWithBackends('renderTrainingCurves', () => {
  it('draws three panels (loss, accuracy, extra metrics) into one PNG', () => {
    const record = (epoch: number, loss: number) => ({
      epoch,
      learningRate: 0.1,
      seconds: 1,
      imagesPerSecond: 100,
      train: { losses: { total: loss, ce: loss }, accuracy: 0.5, count: 10 },
      extra: { teacherCmi: 0.2 },
      numTensors: 0,
    });
    const image = decodePng(renderTrainingCurves([record(1, 2), record(2, 1)]));
    const withoutExtra = decodePng(renderTrainingCurves([{ ...record(1, 2), extra: {} }]));
    expect(image.height).toBeGreaterThanOrEqual(300);
    expect(image.width).toBeGreaterThanOrEqual(3 * 400);
    expect(withoutExtra.width).toBeLessThan(3 * 400);
    expect(withoutExtra.width).toBeGreaterThanOrEqual(2 * 400);
  });
});

describeWithBackends('formatProgressLine', () => {
  it('shows epoch, bar, step, loss parts, throughput and ETA', () => {
    const line = formatProgressLine(
      {
        epoch: 3,
        epochs: 240,
        step: 50,
        stepsPerEpoch: 100,
        globalStep: 250,
        losses: { total: 1.5, ce: 0.5, kd: 1 },
        learningRate: 0.05,
        imagesPerSecond: 812.34,
      },
      250,
    );
    expect(line).toBe(
      'epoch 3/240 [##########----------] 50/100 loss 1.5000 (ce 0.5000 kd 1.0000) lr 0.0500 812.3 img/s ETA 4m10s',
    );
  });
});
