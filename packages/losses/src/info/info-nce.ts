import * as tf from '@tensorflow/tfjs-core';
import { assertNumber } from '../validate';
import {
  assertKnownOptions,
  assertMatrixPair,
  diagonalCrossEntropy,
  l2NormalizeRows,
  valueChecks,
  type ValueCheckOption,
} from './shared';

export interface InfoNceLossOptions extends ValueCheckOption {
  /** Temperature τ dividing the similarities (> 0). Default 0.07 (CRD, MoCo). */
  temperature?: number;
  /** L2-normalise the rows first, so similarities are cosines. Default true. */
  normalize?: boolean;
}

/**
 * In-batch InfoNCE (van den Oord et al. 2018): row i of `anchors` must pick out its own positive,
 * `positives[i]`, among all rows of `positives`; the other N − 1 rows are its negatives:
 *
 *   L = −(1/N) Σ_i log softmax_j( a_i · p_j / τ )_i,   a, p L2-normalised when `normalize`.
 *
 * log N − L is a lower bound on the mutual information between the two views; for unrelated embeddings
 * L ≈ log N. A zero row stays zero under normalisation (norm clamped at 1e-12). Needs N ≥ 2.
 *
 * @param anchors float32 `[N, D]`, e.g. student embeddings.
 * @param positives float32 `[N, D]`, e.g. teacher embeddings of the same samples.
 *
 * @example
 * const loss = infoNceLoss(studentEmbedding, teacherEmbedding, { temperature: 0.07 });
 */
export function infoNceLoss(anchors: tf.Tensor, positives: tf.Tensor, options: InfoNceLossOptions = {}): tf.Scalar {
  const fn = 'infoNceLoss';
  assertKnownOptions(fn, options, ['temperature', 'normalize', 'checkValues']);
  const checks = valueChecks(fn, options.checkValues);
  const [a, p] = assertMatrixPair(fn, { anchors, positives }, '[N, D]', checks);
  if (a.shape[0] < 2)
    throw new Error(`${fn}: anchors needs at least 2 rows (the other rows are the negatives), got ${a.shape[0]}`);
  const temperature = assertNumber(fn, 'temperature', options.temperature ?? 0.07, { positive: true });
  const normalize = options.normalize ?? true;
  if (typeof normalize !== 'boolean') throw new Error(`${fn}: normalize must be a boolean, got ${String(normalize)}`);

  return tf.tidy(() => {
    const anchorRows = normalize ? l2NormalizeRows(a) : a;
    const positiveRows = normalize ? l2NormalizeRows(p) : p;
    // similarity logits a_i · p_j / τ; targets on the diagonal
    const logits = tf.div<tf.Tensor2D>(tf.matMul(anchorRows, positiveRows, false, true), temperature);
    return diagonalCrossEntropy(logits);
  });
}
