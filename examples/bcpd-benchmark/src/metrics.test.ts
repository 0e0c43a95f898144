import { describeWithBackends, expectThrowsWith, tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { FULL_BENCHMARK } from './config';
import { bayesAccuracy, bcpdError, expectedCalibrationError, scoreLogits } from './metrics';
import { oracleTeacher } from './oracle';
import { createProblem } from './problem';
import { predictLogits } from './runner';
import { vectorDataset } from './vectors';

describeWithBackends('metrics', () => {
  it('BCPD error is computed in float64: KL((½, ½) ‖ softmax(0, ε)) = log cosh(ε/2) ≈ ε²/8 for ε = 1e-6', () => {
    const epsilon = 1e-6;
    const error = scoreLogits({
      logits: Float64Array.of(0, epsilon),
      posterior: Float64Array.of(0.5, 0.5),
      labels: Int32Array.of(0),
      numClasses: 2,
    }).bcpdError;
    // 1.25e-13: float32 log-probabilities (spacing ≈ 6e-8 near log ½) could not resolve it.
    expect(Math.abs(error - epsilon ** 2 / 8) / (epsilon ** 2 / 8)).toBeLessThan(1e-2);
    // By hand: P* = (0.8, 0.2), P_T = (0.5, 0.5): 0.8·log 1.6 + 0.2·log 0.4 = 0.192745…
    const byHand = 0.8 * Math.log(1.6) + 0.2 * Math.log(0.4);
    expect(
      bcpdError({
        posterior: Float64Array.of(0.8, 0.2),
        logProbabilities: [Math.log(0.5), Math.log(0.5)],
        numClasses: 2,
      }),
    ).toBeCloseTo(byHand, 15);
  });

  it('a teacher that outputs P* exactly has zero BCPD error and the Bayes accuracy', () => {
    const spec = FULL_BENCHMARK.problems[1]!.spec;
    const problem = createProblem(spec);
    const sample = problem.sample(2000, 'oracle-check');
    const posterior = problem.posterior(sample.x);
    const exact = scoreLogits({
      logits: problem.logPosterior(sample.x),
      posterior,
      labels: sample.labels,
      numClasses: spec.numClasses,
    });
    expect(Math.abs(exact.bcpdError)).toBeLessThan(1e-14);
    expect(exact.accuracy).toBe(
      bayesAccuracy({ posterior, labels: sample.labels, numClasses: spec.numClasses }).empirical,
    );
    // The oracle teacher (the KdModel students distil from) returns those logits as float32, from float32 inputs.
    const oracle = oracleTeacher(problem);
    const dataset = vectorDataset({ sample, dimension: spec.dimension, numClasses: spec.numClasses });
    const scores = scoreLogits({
      logits: predictLogits(oracle, dataset),
      posterior,
      labels: sample.labels,
      numClasses: spec.numClasses,
    });
    expect(scores.bcpdError).toBeGreaterThanOrEqual(0);
    expect(scores.bcpdError).toBeLessThan(1e-6);
    expect(Math.abs(scores.accuracy - exact.accuracy)).toBeLessThanOrEqual(1 / 2000);
    const wrongShape = tf.zeros([1, 1, 1, spec.dimension + 1]) as tf.Tensor4D;
    expectThrowsWith(
      () => oracle.apply(wrongShape, { training: false }),
      'oracle.apply',
      `[N, 1, 1, ${spec.dimension}]`,
    );
    wrongShape.dispose();
  });

  it('ECE by hand: 15 bins of the confidence, |accuracy − confidence| weighted by the bin share', () => {
    // Confidences 0.9, 0.9 (one right) → bin 13: |0.5 − 0.9| = 0.4; 0.6 (right) → bin 9: |1 − 0.6| = 0.4; 0.7 (wrong) → bin 10: 0.7.
    const probabilities = [0.9, 0.1, 0.9, 0.1, 0.4, 0.6, 0.7, 0.3];
    const labels = Int32Array.of(0, 1, 1, 1);
    const ece = expectedCalibrationError({ probabilities, labels, numClasses: 2 });
    expect(ece).toBeCloseTo((2 / 4) * 0.4 + (1 / 4) * 0.4 + (1 / 4) * 0.7, 14);
  });

  it('Bayes accuracy: E[max P*] with its standard error, and the Bayes classifier on the labels', () => {
    const result = bayesAccuracy({
      posterior: Float64Array.of(0.9, 0.1, 0.3, 0.7, 0.6, 0.4),
      labels: Int32Array.of(0, 0, 0),
      numClasses: 2,
    });
    const values = [0.9, 0.7, 0.6];
    const average = (0.9 + 0.7 + 0.6) / 3;
    const variance = values.reduce((sum, value) => sum + (value - average) ** 2, 0) / 2;
    expect(result.expected).toBeCloseTo(average, 14);
    expect(result.standardError).toBeCloseTo(Math.sqrt(variance / 3), 14);
    expect(result.empirical).toBeCloseTo(2 / 3, 14);
  });

  it('rejects logits of the wrong size or with NaN', () => {
    const posterior = Float64Array.of(0.5, 0.5);
    expectThrowsWith(
      () => scoreLogits({ logits: [0, 0, 0], posterior, labels: Int32Array.of(0), numClasses: 2 }),
      'scoreLogits',
      'logits',
      '2 values',
    );
    expectThrowsWith(
      () => scoreLogits({ logits: [0, Number.NaN], posterior, labels: Int32Array.of(0), numClasses: 2 }),
      'scoreLogits',
      'logits[1] is NaN',
    );
  });
});
