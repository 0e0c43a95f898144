/** The most values one tensor or typed array may hold: tfjs indexes tensors with int32. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** "1.5 MB" (SI units, as download tools and memory figures are quoted). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Throws before allocating `elements` values of `bytesPerElement` bytes (`copies` of them) when one of them
 * exceeds {@link MAX_ELEMENTS}, saying what they would need: `fn: what would need 3.840e+9 values, 15.4 GB
 * (30.7 GB in all); one tensor holds at most 2147483647 values (8.6 GB)`.
 */
export function assertAllocatable(
  fn: string,
  what: string,
  elements: number,
  bytesPerElement: number,
  copies = 1,
): void {
  if (elements <= MAX_ELEMENTS) return;
  const total = copies > 1 ? ` (${formatBytes(copies * elements * bytesPerElement)} in all)` : '';
  throw new Error(
    `${fn}: ${what} would need ${elements.toExponential(3)} values, ${formatBytes(elements * bytesPerElement)}${total}; ` +
      `one tensor holds at most ${MAX_ELEMENTS} values (${formatBytes(MAX_ELEMENTS * bytesPerElement)})`,
  );
}
