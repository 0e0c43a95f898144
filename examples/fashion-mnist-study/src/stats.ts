/**
 * The few statistics the report states: mean and sample standard deviation over seeds, and paired differences
 * over the seeds two arms share.
 */

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Sample standard deviation s = √(Σ(x − x̄)² / (n − 1)); NaN when n < 2. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export interface PairedDifference {
  /** Seeds present in both arms, ascending. */
  seeds: number[];
  /** d_s = a_s − b_s per shared seed. */
  differences: number[];
  /** d̄ = mean of d_s. */
  mean: number;
  /** Sample standard deviation of d_s (the spread). */
  std: number;
  /** Standard error s_d / √n. */
  standardError: number;
  /** |d̄| > s_d: the gap exceeds the seed-to-seed spread of the difference (false when n < 2). */
  exceedsSpread: boolean;
}

/**
 * Paired differences a − b over the seeds both arms have (same seed = same student initialisation, data order and
 * augmentation), so that seed-to-seed noise shared by both arms cancels.
 */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedDifference {
  const seeds = [...a.keys()].filter((seed) => b.has(seed)).sort((x, y) => x - y);
  const differences = seeds.map((seed) => (a.get(seed) as number) - (b.get(seed) as number));
  const average = mean(differences);
  const std = sampleStd(differences);
  return {
    seeds,
    differences,
    mean: average,
    std,
    standardError: std / Math.sqrt(differences.length),
    exceedsSpread: differences.length >= 2 && Math.abs(average) > std,
  };
}
