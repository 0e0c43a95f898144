import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { ClassificationAccumulator } from './classification';

describeWithBackends('ClassificationAccumulator', () => {
  it('computes top-1, top-5, per-class accuracy, confusion matrix and cross-entropy by hand', () => {
    const accumulator = new ClassificationAccumulator(6);
    // sample 0: label 0, predicted 0; sample 1: label 1, predicted 2, label ranked 2nd;
    // sample 2: label 2, label ranked last (6th) → outside the top 5
    const logits = [5, 1, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 1, 1, -9, 1, 1, 1];
    accumulator.add(logits, [0, 1, 2]);
    const result = accumulator.result();
    expect(result.top1).toBeCloseTo(1 / 3, 12);
    expect(result.top5).toBeCloseTo(2 / 3, 12);
    expect(result.count).toBe(3);
    expect(result.perClassAccuracy.slice(0, 3)).toEqual([1, 0, 0]);
    expect(Number.isNaN(result.perClassAccuracy[3])).toBe(true);
    expect(result.confusionMatrix[1]![2]).toBe(1);
    expect(result.confusionMatrix[2]![0]).toBe(1);
    const ce = (row: number[], label: number) =>
      Math.log(row.reduce((sum, value) => sum + Math.exp(value), 0)) - row[label]!;
    const expected = (ce(logits.slice(0, 6), 0) + ce(logits.slice(6, 12), 1) + ce(logits.slice(12), 2)) / 3;
    expect(result.loss).toBeCloseTo(expected, 10);
  });

  it('rejects labels out of range and logits of the wrong size', () => {
    const accumulator = new ClassificationAccumulator(2);
    expect(() => accumulator.add([0, 1], [2])).toThrow(
      'ClassificationAccumulator.add: labels[0] = 2 is out of range [0, 2)',
    );
    expect(() => accumulator.add([0, 1, 2], [0])).toThrow(
      'ClassificationAccumulator.add: logits has 3 values, expected 1×2',
    );
  });
});
