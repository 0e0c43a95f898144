/**
 * Subsets for the MCMI protocols: few-shot students learn from a fraction of the training split, zero-shot
 * students never see some classes. Both keep the original `indices`, so CRD's memory bank still addresses
 * samples by their index in the full split.
 */
import { assertKnownOptions, assertSeed, SeededRandom, shuffledRange } from '@kd/internal';
import type { Dataset } from './dataset';
import { assertDataset, selectSamples } from './dataset';
import { assertNumber, assertOneOf } from './validate';

export type FewShotMode = 'stratified' | 'head';

export interface FewShotSubsetOptions {
  /** Fraction of the samples to keep, in (0, 1]. */
  fraction: number;
  /**
   * 'head' keeps the first round(fraction·N) samples in file order (what the MCMI few-shot code does);
   * 'stratified' keeps round(fraction·n_c) samples of every class c (at least one), chosen at random with
   * `seed`, so class balance is preserved. Default 'stratified'.
   */
  mode?: FewShotMode;
  /** Seed of the 'stratified' draw. Default 0. */
  seed?: number;
}

/**
 * A fraction of `dataset`, samples in their original order, original indices kept.
 *
 * @example
 * const fivePercent = fewShotSubset(train, { fraction: 0.05, mode: 'head' }); // CIFAR-100: 2,500 samples
 */
export function fewShotSubset(dataset: Dataset, options: FewShotSubsetOptions): Dataset {
  const fn = 'fewShotSubset';
  assertDataset(fn, 'dataset', dataset);
  assertKnownOptions(fn, options, ['fraction', 'mode', 'seed']);
  if (options === undefined) throw new Error(`${fn}: options.fraction is required`);
  const fraction = assertNumber(fn, 'options.fraction', options.fraction, { positive: true, max: 1 });
  const mode = assertOneOf<FewShotMode>(fn, 'options.mode', options.mode ?? 'stratified', ['stratified', 'head']);
  const seed = assertSeed(fn, 'options.seed', options.seed ?? 0);
  const count = dataset.labels.length;
  if (mode === 'head') {
    const keep = Math.max(1, Math.round(fraction * count));
    return selectSamples({ dataset, positions: Int32Array.from({ length: keep }, (_, i) => i) });
  }
  const byClass: number[][] = Array.from({ length: dataset.numClasses }, () => []);
  dataset.labels.forEach((label, row) => {
    if (label < 0)
      throw new Error(`${fn}: dataset.labels[${row}] is unlabeled (−1); 'stratified' needs a label for every sample`);
    byClass[label]!.push(row);
  });
  const random = new SeededRandom(seed);
  const chosen: number[] = [];
  for (const rows of byClass) {
    if (rows.length === 0) continue;
    const keep = Math.max(1, Math.round(fraction * rows.length));
    const order = shuffledRange(rows.length, random);
    for (let k = 0; k < keep; k++) chosen.push(rows[order[k]!]!);
  }
  chosen.sort((a, b) => a - b);
  return selectSamples({ dataset, positions: chosen });
}

/**
 * `dataset` without the samples of `classes` (the zero-shot protocol: the student never sees them). Labels are
 * not renumbered, so the model keeps all `numClasses` outputs; original indices are kept.
 *
 * @example
 * const withoutTrucks = omitClasses(cifar10Train, { classes: [9] });
 */
export function omitClasses(dataset: Dataset, options: { classes: readonly number[] }): Dataset {
  const fn = 'omitClasses';
  assertDataset(fn, 'dataset', dataset);
  assertKnownOptions(fn, options, ['classes']);
  if (options === undefined || !Array.isArray(options.classes))
    throw new Error(`${fn}: options.classes must be an array of class labels`);
  const omitted = new Set<number>();
  options.classes.forEach((label, i) => {
    omitted.add(
      assertNumber(fn, `options.classes[${i}]`, label, { integer: true, min: 0, max: dataset.numClasses - 1 }),
    );
  });
  const positions: number[] = [];
  dataset.labels.forEach((label, row) => {
    if (!omitted.has(label)) positions.push(row);
  });
  if (positions.length === 0) {
    throw new Error(
      `${fn}: options.classes [${[...omitted].join(', ')}] omits every class the dataset holds; nothing would be left`,
    );
  }
  return selectSamples({ dataset, positions });
}
