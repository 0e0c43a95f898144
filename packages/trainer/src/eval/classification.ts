/**
 * Classification metrics accumulated in plain JS from logits read once per batch: top-1, top-5, per-class
 * accuracy and the confusion matrix (rows = true class, columns = predicted class; the zero-shot protocol
 * reads an omitted class's row).
 */

/** Metrics of one evaluation pass. */
export interface ClassificationMetrics {
  /** Fraction of samples whose arg-max logit is the label. */
  top1: number;
  /** Fraction of samples whose label is among the 5 largest logits (all classes when there are fewer). */
  top5: number;
  /** Mean softmax cross-entropy in nats. */
  loss: number;
  /** `perClassAccuracy[c]` = correct / count for class c (NaN for a class with no sample). */
  perClassAccuracy: number[];
  /** `confusionMatrix[trueClass][predictedClass]` = count. */
  confusionMatrix: number[][];
  /** Number of samples evaluated. */
  count: number;
}

/** Running sums of an evaluation pass. */
export class ClassificationAccumulator {
  private correctTop1 = 0;
  private correctTop5 = 0;
  private lossSum = 0;
  private total = 0;
  private readonly confusion: number[][];

  constructor(readonly numClasses: number) {
    this.confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  }

  /** Adds a batch: `logits` is `[B·C]` row-major, `labels` `[B]`. */
  add(logits: ArrayLike<number>, labels: ArrayLike<number>): void {
    const classes = this.numClasses;
    const batch = labels.length;
    if (logits.length !== batch * classes) {
      throw new Error(
        `ClassificationAccumulator.add: logits has ${logits.length} values, expected ${batch}×${classes}`,
      );
    }
    const topK = Math.min(5, classes);
    for (let row = 0; row < batch; row++) {
      const label = labels[row] as number;
      if (!(label >= 0 && label < classes)) {
        throw new Error(`ClassificationAccumulator.add: labels[${row}] = ${label} is out of range [0, ${classes})`);
      }
      const offset = row * classes;
      let best = 0;
      let maximum = -Infinity;
      for (let c = 0; c < classes; c++) {
        const value = logits[offset + c] as number;
        if (value > maximum) {
          maximum = value;
          best = c;
        }
      }
      // log-sum-exp shifted by the max: CE = log Σ exp(z_c − m) − (z_y − m)
      let sumExp = 0;
      for (let c = 0; c < classes; c++) sumExp += Math.exp((logits[offset + c] as number) - maximum);
      const labelLogit = logits[offset + label] as number;
      this.lossSum += Math.log(sumExp) - (labelLogit - maximum);
      // the label is in the top k when fewer than k classes beat it (ties count in its favour)
      let better = 0;
      for (let c = 0; c < classes; c++) if ((logits[offset + c] as number) > labelLogit) better++;
      if (best === label) this.correctTop1++;
      if (better < topK) this.correctTop5++;
      (this.confusion[label] as number[])[best]! += 1;
      this.total++;
    }
  }

  /** The metrics so far. */
  result(): ClassificationMetrics {
    const perClassAccuracy = this.confusion.map((row, label) => {
      const count = row.reduce((a, b) => a + b, 0);
      return count === 0 ? Number.NaN : (row[label] as number) / count;
    });
    const total = Math.max(this.total, 1);
    return {
      top1: this.correctTop1 / total,
      top5: this.correctTop5 / total,
      loss: this.lossSum / total,
      perClassAccuracy,
      confusionMatrix: this.confusion.map((row) => [...row]),
      count: this.total,
    };
  }
}
