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
  /** Paired t statistic d̄ / (s_d / √n) (NaN when n < 2). */
  t: number;
  /** |t| above the two-sided 95 % critical value of Student's t with n − 1 degrees of freedom. */
  significant: boolean;
}

/** Two-sided 95 % critical values t_{0.975, df} for df = 1…10 (standard table). */
const T_CRITICAL_95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/** t_{0.975, df}: df 1–10 from the table, 1.96 (normal) beyond 30, a conservative 2.228 in between. */
export function tCritical95(degreesOfFreedom: number): number {
  if (!Number.isInteger(degreesOfFreedom) || degreesOfFreedom < 1)
    throw new Error(`tCritical95: degreesOfFreedom must be a positive integer, got ${degreesOfFreedom}`);
  if (degreesOfFreedom <= T_CRITICAL_95.length) return T_CRITICAL_95[degreesOfFreedom - 1] as number;
  return degreesOfFreedom > 30 ? 1.96 : 2.228;
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
  const t = average / (std / Math.sqrt(differences.length));
  return {
    seeds,
    differences,
    mean: average,
    std,
    standardError: std / Math.sqrt(differences.length),
    exceedsSpread: differences.length >= 2 && Math.abs(average) > std,
    t: differences.length >= 2 ? t : Number.NaN,
    significant: differences.length >= 2 && Math.abs(t) > tCritical95(differences.length - 1),
  };
}
