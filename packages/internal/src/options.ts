import { describeValue } from './validate';

/**
 * Edit distance between `a` and `b`: the fewest single-character insertions, deletions, substitutions and
 * swaps of two adjacent characters that turn one into the other (optimal string alignment). A swap counts
 * once because it is the commonest typo in option names (`temrpature`).
 *
 * @example editDistance('temprature', 'temperature') // 1
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the swap case looks two characters back.
  let previousPrevious: number[] = new Array<number>(b.length + 1).fill(0);
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, column) => column);
  for (let row = 1; row <= a.length; row++) {
    const current: number[] = new Array<number>(b.length + 1).fill(0);
    current[0] = row;
    for (let column = 1; column <= b.length; column++) {
      const substitution = a[row - 1] === b[column - 1] ? 0 : 1;
      let best = Math.min(
        (previous[column] as number) + 1,
        (current[column - 1] as number) + 1,
        (previous[column - 1] as number) + substitution,
      );
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1]) {
        best = Math.min(best, (previousPrevious[column - 2] as number) + 1);
      }
      current[column] = best;
    }
    previousPrevious = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The entry of `known` closest to `key` by {@link editDistance}, compared case-insensitively; ties go to the
 * entry listed first. `undefined` when `known` is empty.
 *
 * @example closestKey('shufle', ['batchSize', 'shuffle']) // 'shuffle'
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lowered = key.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lowered, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Throws when `options` holds a key that is not in `known`, so a misspelt option (`temprature`) is an error
 * instead of being ignored while the default is used. The message names the function, the key and the
 * closest known key:
 * `kdLoss: unknown option 'temprature', did you mean 'temperature'? (known options: temperature)`.
 *
 * `undefined` options pass (every option is then at its default); `null`, arrays and other non-objects are
 * rejected. `where` names what holds the options when it is not the function's own options argument, e.g.
 * `"objectives[0].options ('kd')"`; it appears in the message as `... unknown option 'x' in <where>, ...`.
 *
 * @example
 * assertKnownOptions('createLoader', options, ['batchSize', 'shuffle', 'seed']);
 */
export function assertKnownOptions(fn: string, options: unknown, known: readonly string[], where?: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: ${where ?? 'options'} must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const place = where === undefined ? '' : ` in ${where}`;
    const suggestion = closestKey(key, known);
    if (suggestion === undefined) throw new Error(`${fn}: unknown option '${key}'${place}; it takes no options`);
    throw new Error(
      `${fn}: unknown option '${key}'${place}, did you mean '${suggestion}'? (known options: ${known.join(', ')})`,
    );
  }
}
