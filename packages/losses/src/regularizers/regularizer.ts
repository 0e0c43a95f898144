/**
 * What every stateful regularizer shares: variables with globally unique tfjs names, a plain-JSON config,
 * and weights saved and loaded through tfjs's weight encoding (`tf.io.encodeWeights` / `decodeWeights`).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * A regularizer's saved weights, exactly what `tf.io.encodeWeights` returns (tfjs-core's type, not a copy): the
 * manifest entries `specs` and their concatenated little-endian values `data`; `tf.io.decodeWeights(data, specs)`
 * reads them back. (A model's `saveWeights` in `@kd/models` returns a `tf.io.ModelArtifacts` instead.)
 */
export type EncodedWeights = Awaited<ReturnType<typeof tf.io.encodeWeights>>;

/** A JSON value (what `getConfig()` returns is built from these only). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A regularizer's configuration as plain JSON: `new Class(config)` rebuilds the same module. */
export type RegularizerConfig = { [key: string]: JsonValue };

/**
 * A module with its own state: a trainable head, memory banks or running statistics.
 *
 * Its trainable variables go to your optimizer together with the student's (`optimizer.minimize(f, false,
 * [...studentVariables, ...regularizer.trainableVariables])`); its `loss(...)` may be called inside the
 * gradient closure. `saveWeights()` / `loadWeights()` keep everything needed to resume, including
 * non-trainable state.
 */
export interface Regularizer {
  /** Unique per instance; prefixes the names of its tfjs variables. */
  readonly name: string;
  /** The variables to optimise (pass them to the optimizer's `varList`). */
  readonly trainableVariables: tf.Variable[];
  /** State that is saved and loaded but not optimised (memory banks), possibly empty. */
  readonly nonTrainableVariables: tf.Variable[];
  /** The constructor options as plain JSON, seed included. */
  getConfig(): RegularizerConfig;
  /** Every variable and state entry, encoded by `tf.io.encodeWeights`. */
  saveWeights(): Promise<EncodedWeights>;
  /** Restores what `saveWeights()` wrote; names, shapes and dtypes must match this instance exactly. */
  loadWeights(artifacts: EncodedWeights): void;
  /** Frees every variable. The instance cannot be used afterwards. */
  dispose(): void;
}

type StateDtype = 'float32' | 'int32';

interface StateEntry {
  shape: number[];
  dtype: StateDtype;
  read: () => Float32Array | Int32Array;
  write: (values: Float32Array | Int32Array) => void;
}

// tfjs variable names are global to the engine: a counter makes every instance's prefix unique.
let instanceCounter = 0;

/** The shared machinery; subclasses declare variables with `addVariable` and JS-held state with `addState`. */
export abstract class RegularizerBase implements Regularizer {
  readonly name: string;
  private readonly className: string;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly states = new Map<string, StateEntry>();
  private disposed = false;

  protected constructor(className: string) {
    instanceCounter += 1;
    this.className = className;
    this.name = `${className}_${instanceCounter}`;
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.variables.values()].filter((variable) => variable.trainable);
  }

  get nonTrainableVariables(): tf.Variable[] {
    return [...this.variables.values()].filter((variable) => !variable.trainable);
  }

  /** The names under which weights are saved (independent of the instance, so another instance can load them). */
  get weightNames(): string[] {
    return [...this.variables.keys(), ...this.states.keys()];
  }

  abstract getConfig(): RegularizerConfig;

  /** Creates a variable named `<instance name>/<localName>` holding `values`. */
  protected addVariable(
    localName: string,
    values: Float32Array | Int32Array,
    shape: number[],
    { trainable = true, dtype = 'float32' }: { trainable?: boolean; dtype?: StateDtype } = {},
  ): tf.Variable {
    if (this.variables.has(localName) || this.states.has(localName)) {
      throw new Error(`${this.className}: duplicate weight name '${localName}'`);
    }
    const initial = tf.tensor(values, shape, dtype);
    const variable = tf.variable(initial, trainable, `${this.name}/${localName}`, dtype);
    initial.dispose();
    this.variables.set(localName, variable);
    return variable;
  }

  /** Declares state held in JS (counters, sampler state) that is saved and loaded with the weights. */
  protected addState(localName: string, entry: StateEntry): void {
    if (this.variables.has(localName) || this.states.has(localName)) {
      throw new Error(`${this.className}: duplicate weight name '${localName}'`);
    }
    this.states.set(localName, entry);
  }

  /** Throws when the instance has been disposed. */
  protected assertUsable(method: string): void {
    if (this.disposed) throw new Error(`${this.className}.${method}: this regularizer has been disposed`);
  }

  /** Called after `loadWeights` assigned every variable and state entry (to refresh caches). */
  protected afterLoad(): void {}

  async saveWeights(): Promise<EncodedWeights> {
    this.assertUsable('saveWeights');
    const named: Array<{ name: string; tensor: tf.Tensor }> = [];
    const temporaries: tf.Tensor[] = [];
    for (const [name, variable] of this.variables) named.push({ name, tensor: variable });
    for (const [name, state] of this.states) {
      const tensor = tf.tensor(state.read(), state.shape, state.dtype);
      temporaries.push(tensor);
      named.push({ name, tensor });
    }
    try {
      const { data, specs } = await tf.io.encodeWeights(named);
      return { data, specs };
    } finally {
      tf.dispose(temporaries);
    }
  }

  loadWeights(artifacts: EncodedWeights): void {
    const fn = `${this.className}.loadWeights`;
    this.assertUsable('loadWeights');
    if (artifacts === null || typeof artifacts !== 'object' || !Array.isArray(artifacts.specs)) {
      throw new Error(`${fn}: artifacts must be { specs, data } as returned by saveWeights()`);
    }
    if (!(artifacts.data instanceof ArrayBuffer)) throw new Error(`${fn}: artifacts.data must be an ArrayBuffer`);
    const expected = new Map<string, { shape: number[]; dtype: string }>();
    for (const [name, variable] of this.variables) expected.set(name, { shape: variable.shape, dtype: variable.dtype });
    for (const [name, state] of this.states) expected.set(name, { shape: state.shape, dtype: state.dtype });

    let byteLength = 0;
    const seen = new Set<string>();
    for (const spec of artifacts.specs) {
      const want = expected.get(spec.name);
      if (want === undefined) {
        throw new Error(`${fn}: unexpected weight '${spec.name}' (this ${this.className} has: ${[...expected.keys()].join(', ')})`);
      }
      if (seen.has(spec.name)) throw new Error(`${fn}: weight '${spec.name}' appears twice`);
      seen.add(spec.name);
      if (spec.quantization !== undefined) throw new Error(`${fn}: weight '${spec.name}' is quantized; only float32/int32 weights are supported`);
      if (spec.dtype !== want.dtype) throw new Error(`${fn}: weight '${spec.name}' has dtype ${spec.dtype}, expected ${want.dtype}`);
      const shapeMatches = spec.shape.length === want.shape.length && spec.shape.every((size, axis) => size === want.shape[axis]);
      if (!shapeMatches) {
        throw new Error(`${fn}: weight '${spec.name}' has shape [${spec.shape.join(',')}], expected [${want.shape.join(',')}]`);
      }
      byteLength += 4 * want.shape.reduce((a, b) => a * b, 1);
    }
    const missing = [...expected.keys()].filter((name) => !seen.has(name));
    if (missing.length > 0) throw new Error(`${fn}: missing weights: ${missing.join(', ')}`);
    if (artifacts.data.byteLength !== byteLength) {
      throw new Error(`${fn}: weight data is ${artifacts.data.byteLength} bytes, the specs describe ${byteLength} (truncated or corrupt)`);
    }

    // NaN or ±Infinity anywhere would turn every later loss into NaN: reject before anything is assigned.
    let offset = 0;
    for (const spec of artifacts.specs) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.dtype === 'float32') {
        const values = new Float32Array(artifacts.data, offset, count);
        const index = values.findIndex((value) => !Number.isFinite(value));
        if (index >= 0) throw new Error(`${fn}: weight '${spec.name}' holds ${values[index]} at flat index ${index}; weights must be finite`);
      }
      offset += 4 * count;
    }
    const decoded = tf.io.decodeWeights(artifacts.data, artifacts.specs);
    try {
      for (const [name, tensor] of Object.entries(decoded)) {
        const variable = this.variables.get(name);
        if (variable !== undefined) {
          variable.assign(tensor);
          continue;
        }
        const state = this.states.get(name);
        if (state !== undefined) state.write(tensor.dataSync() as Float32Array | Int32Array);
      }
    } finally {
      tf.dispose(Object.values(decoded));
    }
    this.afterLoad();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}
