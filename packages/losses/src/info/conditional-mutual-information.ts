import * as tf from '@tensorflow/tfjs-core';
import {
  assertFloat,
  assertFiniteValues,
  assertLabels,
  assertNumber,
  assertRank,
  checkReducedValues,
} from '../validate';
import { classCentroidsUnchecked } from './class-centroids';
import {
  assertKnownOptions,
  assertMatrix,
  assertNonNegativeValues,
  klDivergencePerRow,
  oneHotFloat,
  stopGradient,
  valueChecks,
  type ValueCheckOption,
  type ValueCheckTiming,
} from './shared';

/**
 * Centroid entries are clamped to at least this before the log, so a class centroid that gives a class
 * (numerically) zero probability yields a large but finite KL instead of Infinity. The authors' MCMI code
 * has no clamp; 1e-8 keeps float32 logs finite without moving CMI measurably. The clamped rows
 * sum to at most 1 + C·1e-8, so CMI can dip below 0 by at most log(1 + C·1e-8) ≈ C·1e-8 nats.
 */
export const CENTROID_FLOOR = 1e-8;

export interface ConditionalMutualInformationOptions extends ValueCheckOption {
  /** Number of classes C; must equal `logits.shape[1]`. */
  numClasses: number;
  /**
   * Fixed class centroids `[C, C]` (row y = a distribution over classes), e.g. from a full pass of the
   * teacher over the training set (`CentroidTracker`), as in the MCMI recipe. Treated as constants: no
   * gradient flows into them. Default: the batch centroids {@link classCentroids}.
   */
  centroids?: tf.Tensor;
}

/**
 * Empirical conditional mutual information I(X; Ŷ | Y) of a classifier (Yang et al. 2023; the quantity
 * MCMI maximises):
 *
 *   CMI = (1/N) Σ_i KL( P_i ‖ Q_{y_i} ),   P_i = softmax(z_i),
 *
 * with Q the given `centroids`, else the batch centroids (mean P of each class in the batch). It measures
 * how far outputs spread around their class centroid and is ≥ 0. Computed in log space: log P from
 * logSoftmax, log Q from max(Q, {@link CENTROID_FLOOR}); the centroid row of each sample is selected with a
 * one-hot matMul. With batch centroids the gradient through Q vanishes analytically (the class mean
 * minimises Σ_i KL(P_i ‖ Q′) over Q′), so they need no detaching; given centroids are detached.
 * Batch centroids are biased for small classes: a class seen once contributes 0.
 *
 * @param logits float32 `[N, C]` (temperature 1, as in MCMI).
 * @param labels int32 `[N]`, each in `[0, C)`.
 *
 * @example
 * const cmi = conditionalMutualInformation(teacherLogits, labels, { numClasses: 10 });
 * const cmiFixed = conditionalMutualInformation(teacherLogits, labels, { numClasses: 10, centroids });
 */
export function conditionalMutualInformation(
  logits: tf.Tensor,
  labels: tf.Tensor,
  options: ConditionalMutualInformationOptions,
): tf.Scalar {
  const fn = 'conditionalMutualInformation';
  const { z, y, numClasses, centroids } = validateCmiInputs(fn, logits, labels, options, [
    'numClasses',
    'centroids',
    'checkValues',
  ]);
  return tf.tidy(() => conditionalMutualInformationUnchecked(z, y, numClasses, centroids));
}

/** Validated inputs shared by {@link conditionalMutualInformation} and `mcmiLoss`. */
export function validateCmiInputs(
  fn: string,
  logits: unknown,
  labels: unknown,
  options: unknown,
  knownOptions: readonly string[],
): { z: tf.Tensor2D; y: tf.Tensor1D; numClasses: number; centroids: tf.Tensor2D | undefined } {
  if (options === undefined) throw new Error(`${fn}: options with numClasses are required`);
  assertKnownOptions(fn, options, knownOptions);
  const {
    numClasses: rawClasses,
    centroids: rawCentroids,
    checkValues,
  } = options as Partial<ConditionalMutualInformationOptions>;
  const checks = valueChecks(fn, checkValues);
  const numClasses = assertNumber(fn, 'numClasses', rawClasses, { integer: true, min: 1 });
  const z = assertMatrix(fn, 'logits', logits, '[N, numClasses]', checks);
  if (z.shape[1] !== numClasses) {
    throw new Error(
      `${fn}: logits has ${z.shape[1]} classes (shape [${z.shape.join(',')}]) but numClasses is ${numClasses}`,
    );
  }
  const y = assertLabels(fn, 'labels', labels, numClasses, z.shape[0], checks);
  let centroids: tf.Tensor2D | undefined;
  if (rawCentroids !== undefined) {
    centroids = assertRank(fn, 'centroids', rawCentroids, 2, '[numClasses, numClasses]') as tf.Tensor2D;
    assertFloat(fn, 'centroids', centroids);
    if (centroids.shape[0] !== numClasses || centroids.shape[1] !== numClasses) {
      throw new Error(
        `${fn}: centroids must be [${numClasses},${numClasses}] (numClasses × numClasses), got [${centroids.shape.join(',')}]`,
      );
    }
    assertFiniteValues(fn, 'centroids', centroids, checks);
    assertNonNegativeValues(fn, 'centroids', centroids, checks);
    assertRowsSumToOne(fn, 'centroids', centroids, checks);
  }
  return { z, y, numClasses, centroids };
}

/** Rows of a centroid matrix must be distributions, otherwise the "KL" is not one and can go negative. */
function assertRowsSumToOne(fn: string, arg: string, centroids: tf.Tensor2D, checks: ValueCheckTiming): void {
  checkReducedValues(
    () => tf.sum(centroids, 1),
    (sums) => {
      for (let row = 0; row < sums.length; row++) {
        const total = sums[row] as number;
        if (Math.abs(total - 1) > 1e-3)
          return `${fn}: ${arg} row ${row} sums to ${total}, expected 1 (each row is a distribution)`;
      }
      return undefined;
    },
    checks,
  );
}

/** {@link conditionalMutualInformation} without input checks. */
export function conditionalMutualInformationUnchecked(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  numClasses: number,
  centroids: tf.Tensor2D | undefined,
): tf.Scalar {
  const q = centroids === undefined ? classCentroidsUnchecked(logits, labels, numClasses) : stopGradient(centroids);
  const logQ = tf.log(tf.maximum(q, CENTROID_FLOOR)) as tf.Tensor2D;
  // Row i of membership · log Q is log Q_{y_i}.
  const logQOfSample = tf.matMul(oneHotFloat(labels, numClasses), logQ) as tf.Tensor2D;
  // mean_i Σ_c P_ic (log P_ic − log Q_{y_i} c)
  return tf.mean(klDivergencePerRow(tf.logSoftmax(logits), logQOfSample)) as tf.Scalar;
}
