/**
 * Tiny ImageNet 200 (http://cs231n.stanford.edu/tiny-imagenet-200.zip): 64×64 RGB JPEGs.
 * Layout under `tiny-imagenet-200/`: `wnids.txt` (the 200 class ids, label order), `words.txt` (id → names,
 * tab separated, for all of ImageNet), `train/<wnid>/images/<wnid>_<k>.JPEG` (500 per class),
 * `val/images/val_<k>.JPEG` with `val/val_annotations.txt` (file, wnid, box), `test/images/test_<k>.JPEG`
 * (no labels). Decoded in pure JS with jpeg-js; greyscale JPEGs are expanded to RGB.
 */
import { assertKnownOptions } from '@kd/internal';
import jpeg from 'jpeg-js';
import type { Dataset } from './dataset';
import { UNLABELED } from './dataset';
import type { FileBytes } from './file-bytes';
import { assertFileBytes, textLines } from './file-bytes';
import { assertOneOf } from './validate';

export const TINY_IMAGENET_SIDE = 64;
export type TinyImagenetSplit = 'train' | 'val' | 'test';

/** Reads `wnids.txt`: one WordNet id per line, unique. */
export function parseWnids({ file }: { file: FileBytes }): string[] {
  assertFileBytes('parseWnids', 'file', file);
  const wnids = textLines(file.bytes);
  if (wnids.length === 0) throw new Error(`parseWnids: ${file.name}: no class ids`);
  const seen = new Set<string>();
  wnids.forEach((wnid, line) => {
    if (/\s/.test(wnid))
      throw new Error(`parseWnids: ${file.name}: line ${line + 1} '${wnid}' is not a single WordNet id`);
    if (seen.has(wnid)) throw new Error(`parseWnids: ${file.name}: class id ${wnid} appears twice`);
    seen.add(wnid);
  });
  return wnids;
}

/**
 * Reads a tab-separated text file into a map: `entry` turns a line into its key and value, or returns what is
 * wrong with it (thrown naming `fn`, the file and the line number).
 */
function tabSeparatedMap(
  fn: string,
  file: FileBytes,
  entry: (line: string) => [key: string, value: string] | string,
): Map<string, string> {
  assertFileBytes(fn, 'file', file);
  const map = new Map<string, string>();
  textLines(file.bytes).forEach((line, index) => {
    const parsed = entry(line);
    if (typeof parsed === 'string') throw new Error(`${fn}: ${file.name}: line ${index + 1} ${parsed}`);
    map.set(parsed[0], parsed[1]);
  });
  return map;
}

/** Reads `words.txt` (`wnid<TAB>names`) into a map. */
export function parseWords({ file }: { file: FileBytes }): Map<string, string> {
  return tabSeparatedMap('parseWords', file, (line) => {
    const tab = line.indexOf('\t');
    return tab < 0 ? 'has no tab between id and names' : [line.slice(0, tab), line.slice(tab + 1).trim()];
  });
}

/** Reads `val_annotations.txt` (`file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1`) into file name → wnid. */
export function parseValAnnotations({ file }: { file: FileBytes }): Map<string, string> {
  return tabSeparatedMap('parseValAnnotations', file, (line) => {
    const fields = line.split('\t');
    return fields.length < 2 ? `needs 'file<TAB>wnid', got '${line}'` : [fields[0]!, fields[1]!];
  });
}

/** Decodes one 64×64 JPEG into RGB bytes at `out[offset…]`, naming the file on failure. */
export function decodeTinyImagenetJpeg({
  file,
  out,
  offset,
}: {
  file: FileBytes;
  out: Uint8Array;
  offset: number;
}): void {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(file.bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 64 });
  } catch (error) {
    throw new Error(`decodeTinyImagenet: ${file.name}: corrupt or truncated JPEG (${(error as Error).message})`);
  }
  if (decoded.width !== TINY_IMAGENET_SIDE || decoded.height !== TINY_IMAGENET_SIDE) {
    throw new Error(`decodeTinyImagenet: ${file.name}: image is ${decoded.width}×${decoded.height}, expected 64×64`);
  }
  const rgba = decoded.data;
  for (let p = 0; p < TINY_IMAGENET_SIDE * TINY_IMAGENET_SIDE; p++) {
    out[offset + 3 * p] = rgba[4 * p]!;
    out[offset + 3 * p + 1] = rgba[4 * p + 1]!;
    out[offset + 3 * p + 2] = rgba[4 * p + 2]!;
  }
}

function imageNumber(name: string): number {
  const match = /_(\d+)\.jpe?g$/i.exec(name);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export interface DecodeTinyImagenetOptions {
  split: TinyImagenetSplit;
  /** `wnids.txt`. */
  wnids: FileBytes;
  /** `words.txt`; class names are the wnids without it. */
  words?: FileBytes;
  /** `val/val_annotations.txt`, required for the val split. */
  valAnnotations?: FileBytes;
  /** The split's JPEGs, each named by its path relative to `tiny-imagenet-200/` (e.g. `train/n01443537/images/n01443537_0.JPEG`). */
  images: readonly FileBytes[];
}

/**
 * Decodes a Tiny ImageNet split into an NHWC 64×64×3 {@link Dataset}. Labels follow `wnids.txt`; train samples
 * are ordered by class then image number, val and test by image number. The test split is unlabeled (−1).
 *
 * @example
 * const val = decodeTinyImagenet({ split: 'val', wnids, words, valAnnotations, images: valJpegs });
 */
export function decodeTinyImagenet(options: DecodeTinyImagenetOptions): Dataset {
  const fn = 'decodeTinyImagenet';
  assertKnownOptions(fn, options, ['split', 'wnids', 'words', 'valAnnotations', 'images']);
  const split = assertOneOf(fn, 'options.split', options.split, ['train', 'val', 'test'] as const);
  const wnids = parseWnids({ file: options.wnids });
  const labelOf = new Map(wnids.map((wnid, label) => [wnid, label]));
  const words = options.words ? parseWords({ file: options.words }) : undefined;
  const classNames = wnids.map((wnid) => words?.get(wnid) ?? wnid);
  if (!Array.isArray(options.images)) throw new Error(`${fn}: options.images must be an array of files`);
  options.images.forEach((file, i) => assertFileBytes(fn, `options.images[${i}]`, file));
  let annotations: Map<string, string> | undefined;
  if (split === 'val') {
    if (!options.valAnnotations)
      throw new Error(`${fn}: options.valAnnotations (val/val_annotations.txt) is required for the val split`);
    annotations = parseValAnnotations({ file: options.valAnnotations });
  }
  const labelled = options.images.map((file) => {
    let label = UNLABELED;
    if (split === 'train') {
      const wnid = /^train\/([^/]+)\//.exec(file.name)?.[1];
      if (wnid === undefined)
        throw new Error(`${fn}: ${file.name}: train images must be named train/<wnid>/images/<file>`);
      const found = labelOf.get(wnid);
      if (found === undefined) throw new Error(`${fn}: ${file.name}: class id ${wnid} is not in ${options.wnids.name}`);
      label = found;
    } else if (split === 'val') {
      const wnid = annotations!.get(baseName(file.name));
      if (wnid === undefined) throw new Error(`${fn}: ${file.name} has no entry in ${options.valAnnotations!.name}`);
      const found = labelOf.get(wnid);
      if (found === undefined)
        throw new Error(
          `${fn}: ${options.valAnnotations!.name}: class id ${wnid} of ${baseName(file.name)} is not in ${options.wnids.name}`,
        );
      label = found;
    }
    return { file, label, number: imageNumber(file.name) };
  });
  labelled.sort((a, b) => a.label - b.label || a.number - b.number || (a.file.name < b.file.name ? -1 : 1));
  const imageBytes = TINY_IMAGENET_SIDE * TINY_IMAGENET_SIDE * 3;
  const images = new Uint8Array(labelled.length * imageBytes);
  const labels = new Int32Array(labelled.length);
  labelled.forEach((entry, row) => {
    decodeTinyImagenetJpeg({ file: entry.file, out: images, offset: row * imageBytes });
    labels[row] = entry.label;
  });
  return {
    images,
    labels,
    indices: Int32Array.from({ length: labelled.length }, (_, i) => i),
    height: TINY_IMAGENET_SIDE,
    width: TINY_IMAGENET_SIDE,
    channels: 3,
    numClasses: wnids.length,
    classNames,
  };
}
