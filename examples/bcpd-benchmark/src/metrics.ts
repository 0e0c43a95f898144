/**
 * Scores of a model's predictive distribution against the known Bayes posterior, all in float64:
 *
 *   BCPD error  = (1/n) Σ_i KL(P*(·|x_i) ‖ P_T(·|x_i)) = (1/n) Σ_i Σ_c P*_ic (log P*_ic − log P_T,ic)   (nats)
 *   ECE         = Σ_b (n_b / n) |acc_b − conf_b|   over 15 equal-width bins of the confidence max_c P_T,ic
 *   accuracy    = (1/n) Σ_i 1[argmax_c P_T,ic = y_i]
 *
 * P_T = softmax of the model's logits, computed here in float64 from the (float32) logits; terms with P* = 0
 * contribute 0 (0·log 0 = 0).
 */
import { logSumExp } from './problem';

export interface Scores {
  accuracy: number;
  /** E_x[KL(P* ‖ P_T)] in nats. */
  bcpdError: number;
  /** Expected calibration error (15 bins). */
  ece: number;
}

export const ECE_BINS = 15;

/** log-softmax of each row of `logits` (`[n, numClasses]`), in float64. */
export function logSoftmax(logits: ArrayLike<number>, numClasses: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let row = 0; row < logits.length / numClasses; row++) {
    const normaliser = logSumExp(logits, row * numClasses, numClasses);
    for (let c = 0; c < numClasses; c++) out[row * numClasses + c] = logits[row * numClasses + c]! - normaliser;
  }
  return out;
}

function assertRows(fn: string, arg: string, values: ArrayLike<number>, rows: number, numClasses: number): void {
  if (values.length !== rows * numClasses)
    throw new Error(
      `${fn}: ${arg} must have ${rows}·${numClasses} = ${rows * numClasses} values, got ${values.length}`,
    );
  for (let index = 0; index < values.length; index++) {
    if (Number.isNaN(values[index]!)) throw new Error(`${fn}: ${arg}[${index}] is NaN`);
  }
}

/** E_x[KL(P* ‖ P_T)] from P* (probabilities) and the model's log-probabilities, both `[n, numClasses]`. */
export function bcpdError({
  posterior,
  logProbabilities,
  numClasses,
}: {
  posterior: Float64Array;
  logProbabilities: ArrayLike<number>;
  numClasses: number;
}): number {
  const rows = posterior.length / numClasses;
  assertRows('bcpdError', 'logProbabilities', logProbabilities, rows, numClasses);
  let total = 0;
  for (let row = 0; row < rows; row++) {
    let kl = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = posterior[row * numClasses + c]!;
      if (p > 0) kl += p * (Math.log(p) - logProbabilities[row * numClasses + c]!);
    }
    total += kl;
  }
  return total / rows;
}

/** Expected calibration error of probabilities `[n, numClasses]` against `labels`. */
export function expectedCalibrationError({
  probabilities,
  labels,
  numClasses,
  bins = ECE_BINS,
}: {
  probabilities: ArrayLike<number>;
  labels: Int32Array;
  numClasses: number;
  bins?: number;
}): number {
  const count = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  for (let row = 0; row < labels.length; row++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++)
      if (probabilities[row * numClasses + c]! > probabilities[row * numClasses + best]!) best = c;
    const top = probabilities[row * numClasses + best]!;
    const bin = Math.min(bins - 1, Math.floor(top * bins));
    count[bin]! += 1;
    confidence[bin]! += top;
    if (best === labels[row]) correct[bin]! += 1;
  }
  let ece = 0;
  for (let bin = 0; bin < bins; bin++) {
    if (count[bin] === 0) continue;
    ece += (count[bin]! / labels.length) * Math.abs(correct[bin]! / count[bin]! - confidence[bin]! / count[bin]!);
  }
  return ece;
}

/** Accuracy, BCPD error and ECE of a model's logits on a labelled sample whose posterior is known. */
export function scoreLogits({
  logits,
  posterior,
  labels,
  numClasses,
}: {
  logits: ArrayLike<number>;
  posterior: Float64Array;
  labels: Int32Array;
  numClasses: number;
}): Scores {
  const fn = 'scoreLogits';
  assertRows(fn, 'logits', logits, labels.length, numClasses);
  assertRows(fn, 'posterior', posterior, labels.length, numClasses);
  const logProbabilities = logSoftmax(logits, numClasses);
  const probabilities = logProbabilities.map(Math.exp);
  let hits = 0;
  for (let row = 0; row < labels.length; row++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++)
      if (logProbabilities[row * numClasses + c]! > logProbabilities[row * numClasses + best]!) best = c;
    if (best === labels[row]) hits++;
  }
  return {
    accuracy: hits / labels.length,
    bcpdError: bcpdError({ posterior, logProbabilities, numClasses }),
    ece: expectedCalibrationError({ probabilities, labels, numClasses }),
  };
}

/**
 * The Bayes accuracy E_x[max_c P*(c|x)] estimated on a sample (unbiased), with its standard error
 * s / √n; and the accuracy of the Bayes classifier argmax P* on the sample's labels.
 */
export function bayesAccuracy({
  posterior,
  labels,
  numClasses,
}: {
  posterior: Float64Array;
  labels: Int32Array;
  numClasses: number;
}): { expected: number; standardError: number; empirical: number } {
  let sum = 0;
  let squares = 0;
  let hits = 0;
  for (let row = 0; row < labels.length; row++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++)
      if (posterior[row * numClasses + c]! > posterior[row * numClasses + best]!) best = c;
    const top = posterior[row * numClasses + best]!;
    sum += top;
    squares += top * top;
    if (best === labels[row]) hits++;
  }
  const n = labels.length;
  const expected = sum / n;
  const variance = (squares - n * expected * expected) / (n - 1);
  return { expected, standardError: Math.sqrt(Math.max(variance, 0) / n), empirical: hits / n };
}
