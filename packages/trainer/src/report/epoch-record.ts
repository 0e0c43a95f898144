import type { ClassificationMetrics } from '../eval/classification';

/** Metrics of one finished epoch (a line of `metrics.jsonl`, an entry of the history). */
export interface EpochRecord {
  /** 1-based epoch. */
  epoch: number;
  learningRate: number;
  /** Wall-clock seconds of the training pass. */
  seconds: number;
  imagesPerSecond: number;
  train: {
    /** Mean of each weighted loss part over the epoch, plus `total`. */
    losses: Record<string, number>;
    /** Training top-1 accuracy of the model being trained (augmented data, training mode). */
    accuracy: number;
    count: number;
  };
  /** Test-set metrics (inference mode), when a test set is given. */
  test?: ClassificationMetrics;
  /** Task-specific numbers, e.g. `teacherCmi` (nats, training set). */
  extra: Record<string, number>;
  /** Live tensors after the epoch (flat across epochs when nothing leaks). */
  numTensors: number;
  /** Resident set size of the process in bytes (Node only): it can grow while numTensors stays flat. */
  rssBytes?: number;
}
