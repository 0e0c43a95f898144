/** Where datasets are cached: `KD_DATA_DIR`, else `$XDG_CACHE_HOME/kd/datasets`, else `~/.cache/kd/datasets`. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(): string {
  const explicit = process.env.KD_DATA_DIR;
  if (explicit !== undefined && explicit.trim() !== '') return explicit;
  const xdg = process.env.XDG_CACHE_HOME;
  const cacheRoot = xdg !== undefined && xdg.trim() !== '' ? xdg : join(homedir(), '.cache');
  return join(cacheRoot, 'kd', 'datasets');
}
