import * as tf from '@tensorflow/tfjs-core';
import { crc32 } from './checksum';
import type { RunStore } from './store';

/** JSON-serialisable value kept in a checkpoint manifest. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a checkpoint holds: named tensors (weights, heads, optimiser slots, memory banks) and JSON state. */
export interface CheckpointContent {
  /** Completed epochs. */
  epoch: number;
  /** Optimiser steps taken so far. */
  step: number;
  /** Tensors by stable key (`student/trainable/3`, `optimizer/slot/7`, …). */
  tensors: Map<string, tf.Tensor>;
  /** Everything else needed to resume: RNG state, best/last metrics, history, fingerprint. */
  state: { [key: string]: JsonValue };
}

/** The manifest's on-disk layout (`checkpoint.json`). */
interface CheckpointManifest {
  format: 'kd-trainer-checkpoint';
  version: 1;
  epoch: number;
  step: number;
  binary: string;
  byteLength: number;
  crc32: number;
  specs: tf.io.WeightsManifestEntry[];
  keys: string[];
  state: { [key: string]: JsonValue };
}

/** File name of the manifest: the commit point of a checkpoint. */
export const CHECKPOINT_MANIFEST = 'checkpoint.json';

/**
 * Writes a checkpoint: first the binary (`checkpoint-<epoch>.bin`, `tf.io.encodeWeights`), then the manifest
 * that names it, both atomically, then removes the previous binary. A kill at any point leaves the previous
 * manifest and its binary intact, so the last good checkpoint always loads.
 */
export async function writeCheckpoint({ store, ...content }: CheckpointContent & { store: RunStore }): Promise<void> {
  const keys = [...content.tensors.keys()];
  const named = keys.map((name) => ({ name, tensor: content.tensors.get(name) as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data as ArrayBuffer);
  const previous = await readManifest(store).catch(() => undefined);
  const binary = `checkpoint-${content.epoch}.bin`;
  await store.writeAtomic(binary, bytes);
  const manifest: CheckpointManifest = {
    format: 'kd-trainer-checkpoint',
    version: 1,
    epoch: content.epoch,
    step: content.step,
    binary,
    byteLength: bytes.length,
    crc32: crc32(bytes),
    specs,
    keys,
    state: content.state,
  };
  await store.writeAtomic(CHECKPOINT_MANIFEST, JSON.stringify(manifest));
  if (previous !== undefined && previous.binary !== binary) await store.remove(previous.binary);
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
  const manifest = parsed as Partial<CheckpointManifest>;
  if (manifest.format !== 'kd-trainer-checkpoint' || manifest.version !== 1) {
    throw new Error(`readCheckpoint: ${CHECKPOINT_MANIFEST} is not a version-1 kd-trainer checkpoint manifest`);
  }
  for (const field of ['epoch', 'step', 'byteLength', 'crc32'] as const) {
    if (typeof manifest[field] !== 'number') throw new Error(`readCheckpoint: ${CHECKPOINT_MANIFEST} lacks a numeric '${field}'`);
  }
  if (typeof manifest.binary !== 'string' || !Array.isArray(manifest.specs) || !Array.isArray(manifest.keys)) {
    throw new Error(`readCheckpoint: ${CHECKPOINT_MANIFEST} lacks binary, specs or keys`);
  }
  return manifest as CheckpointManifest;
}

/**
 * Reads the checkpoint of `store`, or undefined when there is none. Verifies the binary's length and CRC-32;
 * a truncated or corrupt file is an error naming the file. The caller owns (and disposes) the tensors.
 */
export async function readCheckpoint(store: RunStore): Promise<CheckpointContent | undefined> {
  const manifest = await readManifest(store);
  if (manifest === undefined) return undefined;
  const bytes = await store.read(manifest.binary);
  if (bytes === undefined) throw new Error(`readCheckpoint: ${manifest.binary} (named by ${CHECKPOINT_MANIFEST}) is missing`);
  if (bytes.length !== manifest.byteLength) {
    throw new Error(`readCheckpoint: ${manifest.binary} is truncated or corrupt: ${bytes.length} bytes, expected ${manifest.byteLength}`);
  }
  const checksum = crc32(bytes);
  if (checksum !== manifest.crc32) {
    throw new Error(`readCheckpoint: ${manifest.binary} checksum mismatch: crc32 ${checksum}, expected ${manifest.crc32}`);
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
