/**
 * JSON files the examples' run directories are made of: written atomically (a temporary file in the same
 * directory, fsync, rename), so an interrupted run never leaves a half-written file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `value` as JSON to `path` atomically; non-finite numbers are written as null. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = openSync(temporary, 'w');
  try {
    writeSync(
      handle,
      `${JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
    );
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
  renameSync(temporary, path);
}

/** The parsed JSON of `path`; undefined when the file does not exist; an error naming the file when it is not JSON. */
export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new Error(`readJson: ${path} is not valid JSON (${(error as Error).message})`);
  }
}
