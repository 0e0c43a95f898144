/**
 * Saving and loading a model's variables in the tfjs weights format: `tf.io` weight specs (name, shape,
 * dtype) plus one binary buffer of little-endian float32 values in spec order, so tfjs tools
 * (`tf.io.decodeWeights`, `tf.io.loadWeights`) can read them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KdModel, NamedVariable } from './types';
import { crc32 } from '@kd/internal';

/** Metadata saved next to the weights; `crc32` is checked on load. */
export interface WeightsMetadata {
  /** Registry name of the model that saved them. */
  model: string;
  numClasses: number;
  inputChannels: number;
  /** CRC-32 of `weightData`. */
  crc32: number;
}

/**
 * What {@link saveWeights} returns: a `tf.io.ModelArtifacts` (tfjs-core's type) with weights only, its weight
 * fields and metadata present. (A regularizer's `saveWeights` in `@kd/losses` returns `tf.io.encodeWeights`'s
 * `{ specs, data }` instead.)
 */
export interface WeightArtifacts extends tf.io.ModelArtifacts {
  format: 'kd-weights';
  generatedBy: string;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
  userDefinedMetadata: { kdModels: WeightsMetadata };
}

/**
 * What {@link loadWeights} accepts: the weight fields of any `tf.io.ModelArtifacts` (tfjs-core's type), i.e.
 * specs and data (one buffer or shards in order), metadata optional.
 */
export type WeightArtifactsInput = Pick<tf.io.ModelArtifacts, 'weightSpecs' | 'weightData' | 'userDefinedMetadata'>;

/** The model's `namedVariables`, or an error naming `fn` when it has none (custom models may lack them). */
export function namedVariablesOf(fn: string, model: KdModel): readonly NamedVariable[] {
  if (model === null || typeof model !== 'object')
    throw new Error(`${fn}: model must be a KdModel, got ${String(model)}`);
  if (!Array.isArray(model.namedVariables)) {
    throw new Error(`${fn}: model '${String(model.name)}' does not list namedVariables; models from createModel do`);
  }
  return model.namedVariables;
}

/**
 * Serialises every variable of `model` (trainable and BN statistics) in the tfjs weights format, with a
 * CRC-32 of the data in `userDefinedMetadata.kdModels`.
 *
 * @example
 * const artifacts = await saveWeights(model);
 * loadWeights(otherModel, artifacts);
 */
export async function saveWeights(model: KdModel): Promise<WeightArtifacts> {
  const entries = namedVariablesOf('saveWeights', model);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const total = entries.reduce((sum, entry) => sum + entry.variable.size, 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const entry of entries) {
    if (entry.variable.dtype !== 'float32') {
      throw new Error(`saveWeights: variable '${entry.name}' is ${entry.variable.dtype}; only float32 is supported`);
    }
    const data = (await entry.variable.data()) as Float32Array;
    values.set(data, offset);
    offset += data.length;
    weightSpecs.push({ name: entry.name, shape: [...entry.variable.shape], dtype: 'float32' });
  }
  const weightData = littleEndianBuffer(values);
  return {
    format: 'kd-weights',
    generatedBy: '@kd/models',
    weightSpecs,
    weightData,
    userDefinedMetadata: {
      kdModels: {
        model: model.name,
        numClasses: model.numClasses,
        inputChannels: model.inputChannels,
        crc32: crc32(new Uint8Array(weightData)),
      },
    },
  };
}

/** The bytes of `values` as little-endian float32 (the tfjs format) whatever the platform's endianness. */
function littleEndianBuffer(values: Float32Array): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length * 4);
  const view = new DataView(buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index] as number, true);
  return buffer;
}

function concatenate(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    bytes.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return bytes.buffer;
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Loads weights saved by {@link saveWeights} (or any tfjs weights with matching names) into `model`. Every
 * check runs before any variable changes, so a rejected file leaves the model as it was: the data must
 * hold exactly the bytes the specs describe, the CRC-32 must match when the metadata carries one, every
 * model variable must appear once with the same shape and dtype float32, no extra names, no NaN or ±Infinity.
 * Errors name the variable and what mismatched.
 *
 * @example
 * loadWeights(model, await saveWeights(trained));
 */
export function loadWeights(model: KdModel, artifacts: WeightArtifactsInput): void {
  loadWeightsAs('loadWeights', model, artifacts);
}

/** {@link loadWeights} with the public function name to put in errors. */
export function loadWeightsAs(fn: string, model: KdModel, artifacts: WeightArtifactsInput): void {
  const entries = namedVariablesOf(fn, model);
  if (artifacts === null || typeof artifacts !== 'object')
    throw new Error(`${fn}: artifacts must be an object, got ${String(artifacts)}`);
  const { weightSpecs, weightData } = artifacts;
  if (!Array.isArray(weightSpecs)) throw new Error(`${fn}: artifacts.weightSpecs must be an array of weight specs`);
  const buffers = Array.isArray(weightData) ? weightData : [weightData];
  if (!buffers.every((buffer) => buffer instanceof ArrayBuffer)) {
    throw new Error(`${fn}: artifacts.weightData must be an ArrayBuffer (or an array of them)`);
  }
  const data = buffers.length === 1 ? (buffers[0] as ArrayBuffer) : concatenate(buffers as ArrayBuffer[]);

  const saved = (artifacts.userDefinedMetadata as { kdModels?: Partial<WeightsMetadata> } | undefined)?.kdModels;
  const from = saved?.model !== undefined ? ` (saved from '${String(saved.model)}')` : '';

  // Offsets of each spec in the data, in spec order (the tfjs layout).
  const specs = new Map<string, { shape: number[]; offset: number }>();
  let offset = 0;
  for (const [index, spec] of weightSpecs.entries()) {
    if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string') {
      throw new Error(`${fn}: weightSpecs[${index}] is not a weight spec {name, shape, dtype}`);
    }
    const { name, shape, dtype } = spec;
    if (!Array.isArray(shape) || !shape.every((size) => Number.isInteger(size) && size >= 0)) {
      throw new Error(`${fn}: weight spec '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (spec.quantization !== undefined)
      throw new Error(`${fn}: weight spec '${name}' is quantized; only float32 is supported`);
    if (specs.has(name)) throw new Error(`${fn}: weight '${name}' appears twice in weightSpecs`);
    const target = entries.find((entry) => entry.name === name);
    if (dtype !== 'float32') {
      throw new Error(
        `${fn}: variable '${name}' has dtype ${String(dtype)} in the weights, model '${model.name}' expects float32`,
      );
    }
    if (target !== undefined && !sameShape(target.variable.shape, shape)) {
      throw new Error(
        `${fn}: variable '${name}' has shape ${describeShape(shape)} in the weights${from}, model '${model.name}' expects ${describeShape(target.variable.shape)}`,
      );
    }
    specs.set(name, { shape, offset });
    offset += 4 * shape.reduce((a, b) => a * b, 1);
  }
  if (data.byteLength < offset) {
    throw new Error(`${fn}: weight data is truncated: ${data.byteLength} bytes, the weight specs need ${offset}`);
  }
  if (data.byteLength > offset) {
    throw new Error(
      `${fn}: weight data has ${data.byteLength - offset} bytes more than the weight specs describe (${offset})`,
    );
  }
  if (saved?.crc32 !== undefined) {
    const actual = crc32(new Uint8Array(data));
    if (actual !== saved.crc32) {
      throw new Error(
        `${fn}: checksum mismatch: weight data has CRC-32 ${hex(actual)}, the metadata says ${hex(Number(saved.crc32))}`,
      );
    }
  }
  const missing = entries.filter((entry) => !specs.has(entry.name)).map((entry) => entry.name);
  if (missing.length > 0) {
    throw new Error(
      `${fn}: the weights${from} lack ${missing.length} variable(s) of model '${model.name}': ${preview(missing)}`,
    );
  }
  const known = new Set(entries.map((entry) => entry.name));
  const unexpected = [...specs.keys()].filter((name) => !known.has(name));
  if (unexpected.length > 0) {
    throw new Error(
      `${fn}: the weights${from} hold ${unexpected.length} variable(s) model '${model.name}' does not have: ${preview(unexpected)}`,
    );
  }

  const view = new DataView(data);
  const decoded = entries.map((entry) => {
    const spec = specs.get(entry.name) as { shape: number[]; offset: number };
    const values = new Float32Array(entry.variable.size);
    for (let index = 0; index < values.length; index++) {
      const value = view.getFloat32(spec.offset + 4 * index, true);
      if (!Number.isFinite(value))
        throw new Error(`${fn}: variable '${entry.name}' holds ${value} at element ${index}`);
      values[index] = value;
    }
    return values;
  });
  entries.forEach((entry, index) => {
    tf.tidy(() => entry.variable.assign(tf.tensor(decoded[index] as Float32Array, entry.variable.shape, 'float32')));
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

function preview(names: string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, …`;
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
