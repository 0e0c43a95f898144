import * as tf from '@tensorflow/tfjs-core';
import type { RunStore } from './store';
import { assertKnownOptions, crc32 } from '@kd/internal';
import type { JsonValue } from '@kd/losses';

// One JSON value type for the whole library: @kd/losses' (regularizer configs), re-exported for the manifest.
export type { JsonValue };

/** What a checkpoint holds: named tensors (weights, heads, optimiser slots, memory banks) and JSON state. */
export interface CheckpointContent {
  /** Completed epochs. */
  epoch: number;
  /** Optimiser steps taken so far. */
  step: number;
  /** Tensors by stable key (`student/trainable/3`, `optimizer/velocity/7`, …). */
  tensors: Map<string, tf.Tensor>;
  /** Everything else needed to resume: RNG state, best/last metrics, history, fingerprint. */
  state: { [key: string]: JsonValue };
}

/** The manifest's on-disk layout (`checkpoint.json`). */
interface CheckpointManifest {
  format: 'kd-trainer-checkpoint';
  version: 2;
  epoch: number;
  step: number;
  binary: string;
  byteLength: number;
  /** CRC-32 of the binary. */
  crc32: number;
  specs: tf.io.WeightsManifestEntry[];
  keys: string[];
  state: { [key: string]: JsonValue };
  /** CRC-32 of this manifest's JSON without this field: catches edits and bit flips in the manifest itself. */
  manifestCrc32: number;
}

/** File name of the manifest: the commit point of a checkpoint. */
export const CHECKPOINT_MANIFEST = 'checkpoint.json';

const MANIFEST_VERSION = 2;
const BINARY_NAME = /^checkpoint-(\d+)\.bin$/;
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

function checksumOf(body: Omit<CheckpointManifest, 'manifestCrc32'>): number {
  return crc32(new TextEncoder().encode(JSON.stringify(body)));
}

/**
 * Writes a checkpoint: first the binary (`checkpoint-<epoch>.bin`, `tf.io.encodeWeights`), then the manifest
 * that names it (with its own CRC-32), both atomically, then removes every other checkpoint binary. A kill at
 * any point leaves the previous manifest and its binary intact, so the last good checkpoint always loads.
 */
export async function writeCheckpoint(options: CheckpointContent & { store: RunStore }): Promise<void> {
  assertKnownOptions('writeCheckpoint', options, ['store', 'epoch', 'step', 'tensors', 'state']);
  const { store, ...content } = options;
  const keys = [...content.tensors.keys()];
  const named = keys.map((name) => ({ name, tensor: content.tensors.get(name) as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data as ArrayBuffer);
  const previous = await readManifest(store).catch(() => undefined);
  const binary = `checkpoint-${content.epoch}.bin`;
  await store.writeAtomic(binary, bytes);
  const body: Omit<CheckpointManifest, 'manifestCrc32'> = {
    format: 'kd-trainer-checkpoint',
    version: MANIFEST_VERSION,
    epoch: content.epoch,
    step: content.step,
    binary,
    byteLength: bytes.length,
    crc32: crc32(bytes),
    specs,
    keys,
    state: content.state,
  };
  await store.writeAtomic(CHECKPOINT_MANIFEST, JSON.stringify({ ...body, manifestCrc32: checksumOf(body) }));
  if (previous !== undefined && previous.binary !== binary) await store.remove(previous.binary);
  await removeOrphanBinaries(store, binary);
}

/**
 * Deletes the checkpoint binaries the manifest does not name (a kill between writing a binary and committing
 * its manifest leaves one). Needs `store.names`; a store without it keeps them. With a manifest that cannot be
 * read nothing is deleted, so a damaged run can still be inspected.
 */
export async function removeOrphanBinaries(store: RunStore, keep?: string): Promise<string[]> {
  if (store.names === undefined) return [];
  const named = keep ?? (await readManifest(store))?.binary;
  const removed: string[] = [];
  for (const name of await store.names('checkpoint-')) {
    if (BINARY_NAME.test(name) && name !== named) {
      await store.remove(name);
      removed.push(name);
    }
  }
  return removed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks every field the reader relies on; the message names the file and the field. */
function validateManifest(value: unknown): CheckpointManifest {
  const where = `readCheckpoint: ${CHECKPOINT_MANIFEST}`;
  if (!isObject(value) || value.format !== 'kd-trainer-checkpoint')
    throw new Error(`${where} is not a kd-trainer checkpoint manifest`);
  if (value.version !== MANIFEST_VERSION) {
    throw new Error(
      `${where} has version ${JSON.stringify(value.version)}; this @kd/trainer reads version ${MANIFEST_VERSION} (start the run afresh)`,
    );
  }
  if (typeof value.manifestCrc32 !== 'number') throw new Error(`${where} lacks its checksum 'manifestCrc32'`);
  const { manifestCrc32, ...body } = value;
  const actual = checksumOf(body as Omit<CheckpointManifest, 'manifestCrc32'>);
  if (actual !== manifestCrc32) {
    throw new Error(
      `${where} checksum mismatch: crc32 ${actual}, expected ${manifestCrc32} (the file was edited or damaged)`,
    );
  }
  // A matching checksum with a wrong structure means another writer: check the structure too.
  if (!isCount(value.epoch) || value.epoch < 1)
    throw new Error(`${where}: 'epoch' must be an integer >= 1, got ${JSON.stringify(value.epoch)}`);
  if (!isCount(value.step))
    throw new Error(`${where}: 'step' must be an integer >= 0, got ${JSON.stringify(value.step)}`);
  if (value.binary !== `checkpoint-${value.epoch}.bin`) {
    throw new Error(`${where}: 'binary' must be checkpoint-${value.epoch}.bin, got ${JSON.stringify(value.binary)}`);
  }
  if (!isCount(value.byteLength))
    throw new Error(`${where}: 'byteLength' must be an integer >= 0, got ${JSON.stringify(value.byteLength)}`);
  if (!isCount(value.crc32) || value.crc32 > 0xffffffff)
    throw new Error(`${where}: 'crc32' must be a 32-bit unsigned integer, got ${JSON.stringify(value.crc32)}`);
  if (!isObject(value.state)) throw new Error(`${where}: 'state' must be an object`);
  if (!Array.isArray(value.specs) || !Array.isArray(value.keys))
    throw new Error(`${where}: 'specs' and 'keys' must be arrays`);
  let bytes = 0;
  const names = new Set<string>();
  value.specs.forEach((spec: unknown, index) => {
    const at = `${where}: specs[${index}]`;
    if (!isObject(spec) || typeof spec.name !== 'string') throw new Error(`${at} must be { name, shape, dtype }`);
    if (!Array.isArray(spec.shape) || !spec.shape.every(isCount))
      throw new Error(`${at} ('${spec.name}'): shape must be a list of sizes, got ${JSON.stringify(spec.shape)}`);
    const size = BYTES_PER_ELEMENT[spec.dtype as string];
    if (size === undefined)
      throw new Error(
        `${at} ('${spec.name}'): dtype must be one of ${Object.keys(BYTES_PER_ELEMENT).join(', ')}, got ${JSON.stringify(spec.dtype)}`,
      );
    if (spec.quantization !== undefined)
      throw new Error(`${at} ('${spec.name}'): quantized tensors are not checkpoints`);
    bytes += size * (spec.shape as number[]).reduce((product, extent) => product * extent, 1);
    names.add(spec.name);
  });
  if (bytes !== value.byteLength)
    throw new Error(`${where}: the specs describe ${bytes} bytes, 'byteLength' says ${value.byteLength}`);
  for (const [index, key] of value.keys.entries()) {
    if (typeof key !== 'string' || !names.has(key))
      throw new Error(`${where}: keys[${index}] ${JSON.stringify(key)} names no tensor of 'specs'`);
  }
  return value as unknown as CheckpointManifest;
}

async function readManifest(store: RunStore): Promise<CheckpointManifest | undefined> {
  const raw = await store.read(CHECKPOINT_MANIFEST);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch (error) {
    throw new Error(`readCheckpoint: ${CHECKPOINT_MANIFEST} is not valid JSON (${(error as Error).message})`);
  }
  return validateManifest(parsed);
}

/**
 * Reads the checkpoint of `store`, or undefined when there is none. Verifies the binary's length and CRC-32;
 * a truncated or corrupt file is an error naming the file. The caller owns (and disposes) the tensors.
 */
export async function readCheckpoint(store: RunStore): Promise<CheckpointContent | undefined> {
  const manifest = await readManifest(store);
  if (manifest === undefined) return undefined;
  const bytes = await store.read(manifest.binary);
  if (bytes === undefined)
    throw new Error(`readCheckpoint: ${manifest.binary} (named by ${CHECKPOINT_MANIFEST}) is missing`);
  if (bytes.length !== manifest.byteLength) {
    throw new Error(
      `readCheckpoint: ${manifest.binary} is truncated or corrupt: ${bytes.length} bytes, expected ${manifest.byteLength}`,
    );
  }
  const checksum = crc32(bytes);
  if (checksum !== manifest.crc32) {
    throw new Error(
      `readCheckpoint: ${manifest.binary} checksum mismatch: crc32 ${checksum}, expected ${manifest.crc32}`,
    );
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const decoded = tf.io.decodeWeights(buffer, manifest.specs);
  const tensors = new Map<string, tf.Tensor>();
  for (const key of manifest.keys) {
    const tensor = decoded[key];
    if (tensor === undefined) throw new Error(`readCheckpoint: ${manifest.binary} lacks tensor '${key}'`);
    tensors.set(key, tensor);
  }
  return { epoch: manifest.epoch, step: manifest.step, tensors, state: manifest.state };
}
