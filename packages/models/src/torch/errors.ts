/**
 * Errors of the checkpoint readers: every message starts with the public function's name and, for a file,
 * its path (`loadTorchCheckpoint: teacher.pth: truncated zip archive: …`).
 */

/** Where an error happened: the public function and, when reading a file, its path. */
export interface ErrorContext {
  readonly fn: string;
  readonly source: string | undefined;
  /** Throws an Error `fn: source: message`. */
  fail(message: string): never;
}

export function errorContext(fn: string, source?: string): ErrorContext {
  const prefix = source === undefined ? `${fn}: ` : `${fn}: ${source}: `;
  return {
    fn,
    source,
    fail(message: string): never {
      throw new Error(`${prefix}${message}`);
    },
  };
}

/** `[64, 32, 3, 3]`, as the messages write shapes. */
export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
