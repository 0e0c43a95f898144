/**
 * `saveSafetensors`: a model's variables as a safetensors file in PyTorch's names and layouts.
 */
import type { KdModel } from '../types';
import { torchAxesFromZoo, torchShape } from './layout';
import { contiguousStrides, readAsFloat32, TorchTensor } from './tensor';

/**
 * Serialises every variable of `model` as safetensors (u64 little-endian header length, a JSON header
 * space-padded to 8 bytes, then the raw little-endian data), with PyTorch's names and layouts: conv
 * `W_torch[o, c, u, v] = W_zoo[u, v, c, o]`, linear `W_torch[o, i] = W_zoo[i, o]`, all float32, plus an
 * int64 `num_batches_tracked` (0) beside every BN's `running_var`, so that in PyTorch
 * `model.load_state_dict(safetensors.torch.load_file(path))` loads it with `strict=True`.
 *
 * @example
 * const bytes = await saveSafetensors(student);
 * // Python: model.load_state_dict(safetensors.torch.load_file('student.safetensors'))
 */
export async function saveSafetensors(model: KdModel): Promise<Uint8Array> {
  const fn = 'saveSafetensors';
  if (model === null || typeof model !== 'object' || !Array.isArray(model.namedVariables)) {
    throw new Error(
      `${fn}: model must be a KdModel that lists namedVariables (models from createModel do), got ${model === null ? 'null' : typeof model}`,
    );
  }
  const tensors: Array<{ name: string; code: 'F32' | 'I64'; shape: number[]; bytes: Uint8Array }> = [];
  const counters: typeof tensors = [];
  for (const { name, variable } of model.namedVariables) {
    if (variable.dtype !== 'float32')
      throw new Error(`${fn}: variable '${name}' is ${variable.dtype}; only float32 is supported`);
    const values = (await variable.data()) as Float32Array;
    // The zoo tensor as a view, read out in PyTorch's axis order.
    const storage = { key: name, dtype: 'float32' as const, numel: values.length, bytes: () => littleEndian(values) };
    const zoo = new TorchTensor(storage, 0, variable.shape, contiguousStrides(variable.shape));
    const torchValues = readAsFloat32(zoo, torchAxesFromZoo(variable.shape.length));
    tensors.push({ name, code: 'F32', shape: torchShape(variable.shape), bytes: littleEndian(torchValues) });
    if (name.endsWith('.running_var')) {
      counters.push({
        name: `${name.slice(0, -'running_var'.length)}num_batches_tracked`,
        code: 'I64',
        shape: [],
        bytes: new Uint8Array(8),
      });
    }
  }
  // int64 entries first, so every tensor starts at a multiple of its element size.
  const ordered = [...counters, ...tensors];
  const header: Record<string, unknown> = {
    __metadata__: { format: 'pt', generated_by: '@kd/models', model: model.name },
  };
  let offset = 0;
  for (const { name, code, shape, bytes } of ordered) {
    header[name] = { dtype: code, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerBytes.length / 2 ** 32), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const { bytes } of ordered) {
    out.set(bytes, position);
    position += bytes.length;
  }
  return out;
}

function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index] as number, true);
  return bytes;
}
