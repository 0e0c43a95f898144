/**
 * Node-only (`@kd/layers/node`): `file://` for `model.save` and `tf.loadLayersModel` with node:fs, for Node
 * without `@tensorflow/tfjs-node`. The layout is tfjs-node's: a directory with `model.json` and `weights.bin`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomicSync } from '@kd/internal/node';

const SCHEME = 'file://';
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function expectedBytes(spec: tf.io.WeightsManifestEntry): number {
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  if (size === undefined) throw new Error(`weight '${spec.name}' has an unsupported dtype ${dtype}`);
  return elements * size;
}

function joinBuffers(data: tf.io.WeightData): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const bytes = new Uint8Array(buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0));
  let offset = 0;
  for (const buffer of buffers) {
    bytes.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return bytes;
}

/**
 * An IOHandler for a directory on disk: `save` writes `<directory>/weights.bin` then `<directory>/model.json`
 * (each atomically: temporary file, fsync, rename), `load` reads `model.json` (the directory or the file's
 * path) and the weight files it lists, checking that their sizes match the manifest. Errors name the file.
 *
 * @example
 * await model.save(fileSystem('runs/student'));
 * const reloaded = await tf.loadLayersModel(fileSystem('runs/student/model.json'));
 */
export function fileSystem(path: string): tf.io.IOHandler {
  const fn = 'fileSystem';
  if (typeof path !== 'string' || path === '')
    throw new Error(`${fn}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer)
        throw new Error(`${fn}: ${path}: binary model topologies are not supported`);
      const directory = path.endsWith('model.json') ? dirname(path) : path;
      mkdirSync(directory, { recursive: true });
      const weights = artifacts.weightData === undefined ? new Uint8Array(0) : joinBuffers(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const {
        modelTopology,
        format,
        generatedBy,
        convertedBy,
        trainingConfig,
        signature,
        userDefinedMetadata,
        modelInitializer,
        initializerSignature,
      } = artifacts;
      const optional = { trainingConfig, signature, userDefinedMetadata, modelInitializer, initializerSignature };
      const modelJson = {
        modelTopology,
        format,
        generatedBy,
        convertedBy,
        weightsManifest: manifest,
        ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
      };
      writeFileAtomicSync(join(directory, 'weights.bin'), weights);
      writeFileAtomicSync(join(directory, 'model.json'), new TextEncoder().encode(JSON.stringify(modelJson)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.endsWith('.json') ? path : join(path, 'model.json');
      const directory = dirname(jsonPath);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`${fn}: cannot read ${jsonPath}: ${(error as Error).message}`);
      }
      if (modelJson === null || typeof modelJson !== 'object' || modelJson.modelTopology === undefined) {
        throw new Error(`${fn}: ${jsonPath} has no modelTopology: not a tfjs model.json`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        if (!Array.isArray(manifest)) throw new Error(`${fn}: ${jsonPath}: weightsManifest must be an array`);
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const [index, group] of manifest.entries()) {
          if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
            throw new Error(`${fn}: ${jsonPath}: weightsManifest[${index}] needs 'paths' and 'weights' arrays`);
          }
          specs.push(...group.weights);
          for (const file of group.paths) {
            if (typeof file !== 'string' || isAbsolute(file) || normalize(file).startsWith('..')) {
              throw new Error(
                `${fn}: ${jsonPath}: weight file path ${JSON.stringify(file)} must be relative and inside the directory`,
              );
            }
            try {
              parts.push(new Uint8Array(readFileSync(join(directory, file))));
            } catch (error) {
              throw new Error(`${fn}: cannot read weight file ${join(directory, file)}: ${(error as Error).message}`);
            }
          }
        }
        const bytes = joinBuffers(
          parts.map((part) => part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength) as ArrayBuffer),
        );
        let expected = 0;
        for (const spec of specs) expected += expectedBytes(spec);
        if (bytes.length !== expected) {
          throw new Error(
            `${fn}: the weight files of ${jsonPath} hold ${bytes.length} bytes, its manifest describes ${expected}: truncated or mismatched`,
          );
        }
        return [specs, bytes.buffer as ArrayBuffer];
      });
    },
  };
}

let registered = false;

/**
 * Makes `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')` use {@link fileSystem}.
 * Does nothing when a `file://` handler already exists (tfjs-node registers one). Idempotent.
 *
 * @example
 * registerFileSystemRouter();
 * await model.save('file://runs/student');
 */
export function registerFileSystemRouter(): void {
  if (registered || tf.io.getSaveHandlers(`${SCHEME}probe`).length > 0) return;
  registered = true;
  const route = (url: string | string[]) => {
    const single = Array.isArray(url) ? url[0] : url;
    return typeof single === 'string' && single.startsWith(SCHEME) ? fileSystem(single.slice(SCHEME.length)) : null;
  };
  // A router returns null for URLs it does not handle (tfjs's own routers do too; the type omits it).
  const router = route as Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
}
