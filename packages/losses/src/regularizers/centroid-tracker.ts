import * as tf from '@tensorflow/tfjs-core';
import { assertAllocatable } from '@kd/internal';
import {
  assertFiniteValues,
  assertFloat,
  assertLabels,
  assertNonEmptyBatch,
  assertNumber,
  assertRank,
  type ValueCheckOption,
} from '../validate';
import { assertKnownOptions, assertSize } from './checks';
import { RegularizerBase, type RegularizerConfig, type ResolvedOptions } from './regularizer';

/** How a `CentroidTracker` turns observed outputs into centroids. */
export type CentroidMode = 'pass' | 'ema';
const MODES: readonly CentroidMode[] = ['pass', 'ema'];

export interface CentroidTrackerOptions extends ValueCheckOption {
  /** Number of classes C. */
  numClasses: number;
  /** 'pass': one full pass, then fixed (the MCMI recipe). 'ema': an exponential moving average. Default 'pass'. */
  mode?: CentroidMode;
  /**
   * EMA momentum m in Q_c ← m·Q_c + (1 − m)·(batch mean of class c); mode 'ema' only. Default 0.99, not the
   * authors' 0.9999 (see the class docs: their update covers every class each step, this one a class only in
   * the batches that hold it, so the same m would average over far more epochs).
   */
  momentum?: number;
}

/**
 * Class centroids Q_y = E[softmax(logits) | Y = y] accumulated over many batches, for
 * `conditionalMutualInformation` / `mcmiLoss` (`{ centroids }`).
 *
 * - mode `'pass'` (the MCMI recipe): `update()` over one full pass of the training set sums the softmax
 *   vectors per class; the first `centroids()` call normalises each row to sum 1 (= the class mean) and
 *   fixes them: later `update()` calls throw until `reset()`.
 * - mode `'ema'`: each `update()` moves the row of every class in the batch towards the batch's class mean,
 *   Q_c ← normalise(m·Q_c + (1 − m)·mean_{i: y_i = c} P_i); a class's first batch sets its row directly.
 *   The authors' unused EMA variant used m = 0.9999, updating every class at every step from 8 cached images
 *   of it. Here a class moves only in the batches that hold it (CIFAR-100, batch 64: about 370 of the 782
 *   batches of an epoch), so m = 0.9999 would average over ~10⁴ updates of a class, about 27 epochs, more
 *   than the 20 epochs of MCMI fine-tuning: the first batches would dominate the centroids throughout.
 *   m = 0.99 averages over ~100 updates, a quarter of an epoch.
 *
 * A class never observed gets the uniform row 1/C. Softmax values are accumulated in float64 on the host
 * (one device-to-host copy per `update`); the state is saved and loaded like a regularizer's weights.
 *
 * @example
 * const tracker = new CentroidTracker({ numClasses: 10 });
 * for (const { images, labels } of trainBatches) tf.tidy(() => tracker.update(teacher.predict(images), labels));
 * const centroids = tracker.centroids(); // [10, 10], fixed from now on
 * const loss = mcmiLoss(logits, labels, { numClasses: 10, centroids });
 */
export class CentroidTracker extends RegularizerBase {
  private readonly config: ResolvedOptions<CentroidTrackerOptions>;
  /** 'pass': per-class sums of softmax rows; 'ema': the current rows. Row-major [C, C]. */
  private readonly sums: Float64Array;
  /** Samples seen per class. */
  private readonly counts: Float64Array;
  /** 'pass' only: the centroids were computed and are now fixed. */
  private finalised = false;

  constructor(options: CentroidTrackerOptions) {
    const fn = 'CentroidTracker';
    assertKnownOptions(fn, options, ['numClasses', 'mode', 'momentum']);
    super(fn, { checkValues: options.checkValues });
    const numClasses = assertSize(fn, 'numClasses', options.numClasses);
    const mode = options.mode ?? 'pass';
    if (!MODES.includes(mode)) throw new Error(`${fn}: mode must be one of 'pass', 'ema', got '${String(mode)}'`);
    if (mode === 'pass' && options.momentum !== undefined)
      throw new Error(`${fn}: momentum applies to mode 'ema' only`);
    const momentum = assertNumber(fn, 'momentum', options.momentum ?? 0.99, { min: 0, max: 1 });
    assertAllocatable(
      fn,
      `the centroids [numClasses ${numClasses}, numClasses ${numClasses}]`,
      numClasses * numClasses,
      8,
    );
    this.config = { numClasses, mode, momentum };
    this.sums = new Float64Array(numClasses * numClasses);
    this.counts = new Float64Array(numClasses);
    this.markBuilt();
    this.addState('sums', {
      shape: [numClasses, numClasses],
      dtype: 'float32',
      read: () => Float32Array.from(this.sums),
      write: (values) => this.sums.set(values),
    });
    this.addState('counts', {
      shape: [numClasses],
      dtype: 'float32',
      read: () => Float32Array.from(this.counts),
      write: (values) => this.counts.set(values),
    });
    this.addState('finalised', {
      shape: [],
      dtype: 'int32',
      read: () => Int32Array.of(this.finalised ? 1 : 0),
      write: (values) => {
        this.finalised = values[0] === 1;
      },
    });
  }

  getConfig(): RegularizerConfig {
    return { ...this.config };
  }

  /** Samples observed per class so far. */
  get classCounts(): number[] {
    return Array.from(this.counts);
  }

  /** Whether mode 'pass' has computed its centroids (further updates are refused until `reset()`). */
  get isFinalised(): boolean {
    return this.finalised;
  }

  /**
   * Adds a batch: P = softmax(logits) per row, grouped by label.
   *
   * @param logits float32 `[N, C]` (compute them outside any gradient closure).
   * @param labels int32 `[N]` in [0, C).
   */
  update(logits: tf.Tensor, labels: tf.Tensor): void {
    const fn = 'CentroidTracker.update';
    this.assertUsable('update');
    const checks = this.valueChecks();
    const { numClasses: c, mode, momentum } = this.config;
    const matrix = assertRank(fn, 'logits', logits, 2, '[N, C]');
    assertFloat(fn, 'logits', matrix);
    assertNonEmptyBatch(fn, 'logits', matrix);
    if (matrix.shape[1] !== c)
      throw new Error(`${fn}: logits must have C = numClasses = ${c} columns, got [${matrix.shape.join(',')}]`);
    assertFiniteValues(fn, 'logits', matrix, checks);
    const n = matrix.shape[0] as number;
    const labelTensor = assertLabels(fn, 'labels', labels, c, n, checks);
    if (this.finalised)
      throw new Error(
        `${fn}: the centroids of this pass were already computed and are fixed: call reset() to start a new pass`,
      );
    const labelValues = labelTensor.dataSync();
    // the label range check may be switched off with the value checks; the accumulation must never write out of bounds
    labelValues.forEach((label, index) => {
      if (!(label >= 0 && label < c)) throw new Error(`${fn}: labels[${index}] = ${label} is out of range [0, ${c})`);
    });
    const probabilitiesTensor = tf.softmax(matrix);
    const probabilities = probabilitiesTensor.dataSync();
    probabilitiesTensor.dispose();

    if (mode === 'pass') {
      labelValues.forEach((label, row) => {
        for (let column = 0; column < c; column++) {
          this.sums[label * c + column] =
            (this.sums[label * c + column] as number) + (probabilities[row * c + column] as number);
        }
        this.counts[label] = (this.counts[label] as number) + 1;
      });
      return;
    }
    const batchSums = new Float64Array(c * c);
    const batchCounts = new Float64Array(c);
    labelValues.forEach((label, row) => {
      for (let column = 0; column < c; column++) {
        batchSums[label * c + column] =
          (batchSums[label * c + column] as number) + (probabilities[row * c + column] as number);
      }
      batchCounts[label] = (batchCounts[label] as number) + 1;
    });
    for (let label = 0; label < c; label++) {
      const count = batchCounts[label] as number;
      if (count === 0) continue;
      const first = this.counts[label] === 0;
      let total = 0;
      for (let column = 0; column < c; column++) {
        const batchMean = (batchSums[label * c + column] as number) / count;
        const value = first
          ? batchMean
          : momentum * (this.sums[label * c + column] as number) + (1 - momentum) * batchMean;
        this.sums[label * c + column] = value;
        total += value;
      }
      for (let column = 0; column < c; column++)
        this.sums[label * c + column] = (this.sums[label * c + column] as number) / total;
      this.counts[label] = (this.counts[label] as number) + count;
    }
  }

  /**
   * The `[C, C]` centroids: row y is the normalised accumulated softmax of class y, or uniform when class y was
   * never observed. In mode 'pass' the first call fixes them. The caller owns (and disposes) the tensor.
   */
  centroids(): tf.Tensor2D {
    this.assertUsable('centroids');
    const c = this.config.numClasses;
    const rows = new Float32Array(c * c);
    for (let label = 0; label < c; label++) {
      let total = 0;
      for (let column = 0; column < c; column++) total += this.sums[label * c + column] as number;
      for (let column = 0; column < c; column++) {
        rows[label * c + column] =
          this.counts[label] === 0 || !(total > 0) ? 1 / c : (this.sums[label * c + column] as number) / total;
      }
    }
    if (this.config.mode === 'pass') this.finalised = true;
    return tf.tensor2d(rows, [c, c]);
  }

  /** Forgets every observation (and, in mode 'pass', the fixed centroids). */
  reset(): void {
    this.assertUsable('reset');
    this.sums.fill(0);
    this.counts.fill(0);
    this.finalised = false;
  }
}
