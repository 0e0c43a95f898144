/**
 * Node-only helpers (`@kd/plot/node`): write and read PNG files. Kept out of the main entry so browser bundles
 * never see `node:fs`.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@kd/internal/node';
import type { RasterImage } from './image';
import { decodePng, encodePng } from './png';

/**
 * Encodes `image` as PNG and writes it atomically: `name.tmp-<pid>-<random>` in the same directory, fsync, then
 * rename over `path` and fsync the directory, so an interrupted run never leaves a half-written file under the
 * final name.
 *
 * @example
 * await writePng('figures/eigen-cam.png', renderGrid({ rows }));
 */
export async function writePng(path: string, image: RasterImage): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new Error('writePng: path must be a non-empty string');
  const bytes = encodePng(image);
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    throw new Error(`writePng: could not write ${path}: ${(error as Error).message}`);
  }
}

/**
 * Reads and decodes a PNG file (see {@link decodePng} for the supported formats).
 *
 * @example
 * const { width, height, channels, data } = await readPng('figures/eigen-cam.png');
 */
export async function readPng(path: string): Promise<RasterImage> {
  if (typeof path !== 'string' || path.length === 0) throw new Error('readPng: path must be a non-empty string');
  const bytes = await readFile(path);
  try {
    return decodePng(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`readPng: ${path}: ${(error as Error).message}`);
  }
}
