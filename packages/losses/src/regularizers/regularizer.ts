/**
 * What every stateful regularizer shares: variables with globally unique tfjs names, a plain-JSON config,
 * and weights saved and loaded through tfjs's weight encoding (`tf.io.encodeWeights` / `decodeWeights`).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertKnownOptions,
  assertSameBatch,
  assertValueCheckMode,
  valueChecks,
  type ValueCheckMode,
  type ValueCheckOption,
  type ValueCheckTiming,
} from '../validate';
import { assertInput, assertShape } from './checks';
import {
  inputLayout,
  type InferredSizes,
  type InputLayout,
  type MapSize,
  sizeFromShape,
  sizeFromWeights,
} from './inferred-sizes';
import { defaultInit, type UniformSampler } from './layers';

/** `record` without its undefined entries (sizes not inferred yet), for `getConfig()`. */
export function withoutUndefined(record: { [key: string]: JsonValue | undefined }): RegularizerConfig {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as RegularizerConfig;
}

/**
 * A regularizer's saved weights, exactly what `tf.io.encodeWeights` returns (tfjs-core's type, not a copy): the
 * manifest entries `specs` and their concatenated little-endian values `data`; `tf.io.decodeWeights(data, specs)`
 * reads them back. (A model's `saveWeights` in `@kd/models` returns a `tf.io.ModelArtifacts` instead.)
 */
export type EncodedWeights = Awaited<ReturnType<typeof tf.io.encodeWeights>>;

/** A JSON value (what `getConfig()` returns is built from these only). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a regularizer keeps of its own constructor options: all of them, defaults filled in. The shared
 * {@link RegularizerOptions} are kept by the base class: `checkValues` (how the instance checks its inputs, not
 * what it computes; `getConfig()` leaves it out) and `warnIfUntrained` (in `getConfig()` when `false`).
 */
export type ResolvedOptions<T> = Required<Omit<T, keyof RegularizerOptions>>;

/** A regularizer's configuration as plain JSON: `new Class(config)` rebuilds the same module. */
export type RegularizerConfig = { [key: string]: JsonValue };

/** The constructor options every regularizer shares (`checkValues`: how each call checks its inputs' values). */
export interface RegularizerOptions extends ValueCheckOption {
  /**
   * Warn once (`console.warn`) when the head's trainable variables have not been updated after
   * 5 `loss()` calls made under a gradient tape: the sign that they are missing from the optimizer's
   * variable list (see {@link collectTrainableVariables}). Default `true`; `false` for a head you freeze on purpose.
   */
  warnIfUntrained?: boolean;
}

/**
 * The shapes of the two tensors `loss()` takes first (student, then teacher), batch axis included (its size is
 * not used): what a head whose sizes were left out is built from, e.g. `{ student: s.shape, teacher: t.shape }`.
 */
export interface RegularizerInputShapes {
  student: readonly number[];
  teacher: readonly number[];
}

/**
 * A module with its own state: a trainable head, memory banks or running statistics.
 *
 * Its trainable variables go to your optimizer together with the student's (`optimizer.minimize(f, false,
 * collectTrainableVariables({ model: student, regularizers: [head] }))`); its `loss(...)` may be called inside
 * the gradient closure. `saveWeights()` / `loadWeights()` keep everything needed to resume, including
 * non-trainable state.
 *
 * Sizes left out of the constructor's options are inferred from the inputs, as Keras layers build on first use:
 * the variables are created by the first `loss()` call (or by `build()` / `loadWeights()`), drawn from the seed
 * exactly as if the sizes had been given. Until then `built` is false and the variable lists are empty.
 */
export interface Regularizer {
  /** Unique per instance; prefixes the names of its tfjs variables. */
  readonly name: string;
  /** Whether the variables exist (always true when every size was given to the constructor). */
  readonly built: boolean;
  /** The variables to optimise (pass them to the optimizer's `varList`); empty until built. */
  readonly trainableVariables: tf.Variable[];
  /** State that is saved and loaded but not optimised (memory banks), possibly empty; empty until built. */
  readonly nonTrainableVariables: tf.Variable[];
  /** The constructor options as plain JSON, seed included (and the inferred sizes once built). */
  getConfig(): RegularizerConfig;
  /** Every variable and state entry, encoded by `tf.io.encodeWeights`. Throws until built. */
  saveWeights(): Promise<EncodedWeights>;
  /**
   * Restores what `saveWeights()` wrote; names, shapes and dtypes must match this instance exactly. An unbuilt
   * head is first built from the saved shapes when they determine its sizes (otherwise it throws); it stays built,
   * at its seeded initial weights, if the data is then rejected.
   */
  loadWeights(artifacts: EncodedWeights): void;
  /** Frees every variable. The instance cannot be used afterwards. */
  dispose(): void;
}

type StateDtype = 'float32' | 'int32';

/** A dense layer's weights: x·kernel + bias. */
export interface DenseWeights {
  kernel: tf.Variable;
  bias: tf.Variable;
}

interface StateEntry {
  shape: number[];
  dtype: StateDtype;
  read: () => Float32Array | Int32Array;
  write: (values: Float32Array | Int32Array) => void;
}

// tfjs variable names are global to the engine: a counter makes every instance's prefix unique.
let instanceCounter = 0;

/** How many `loss()` calls under a gradient tape may pass without any trainable variable being updated. */
export const UNTRAINED_WARNING_CALLS = 5;

/** Whether a gradient tape is recording (inside `tf.variableGrads`, `optimizer.minimize`, `tf.grads`, ...). */
function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/** The shared machinery; subclasses declare variables with `addVariable` and JS-held state with `addState`. */
export abstract class RegularizerBase implements Regularizer {
  readonly name: string;
  /** The `checkValues` constructor option (default `'auto'`): how every call of this instance checks values. */
  protected readonly checkValues: ValueCheckMode;
  private readonly className: string;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly states = new Map<string, StateEntry>();
  private disposed = false;
  private isBuilt = false;
  private lazilyBuilt = false;
  private readonly warnIfUntrained: boolean;
  /** The data of every trainable variable at the first taped `loss()` call; undefined once settled. */
  private untrainedWatch: { dataIds: object[]; calls: number } | undefined;
  private untrainedSettled = false;

  protected constructor(className: string, options: RegularizerOptions = {}) {
    this.checkValues = assertValueCheckMode(className, options.checkValues);
    const warnIfUntrained = options.warnIfUntrained ?? true;
    if (typeof warnIfUntrained !== 'boolean') {
      throw new Error(`${className}: warnIfUntrained must be a boolean, got ${JSON.stringify(warnIfUntrained)}`);
    }
    instanceCounter += 1;
    this.className = className;
    this.name = `${className}_${instanceCounter}`;
    this.warnIfUntrained = warnIfUntrained;
  }

  get built(): boolean {
    return this.isBuilt;
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

  /**
   * Creates the variables from the shapes of `loss()`'s student and teacher inputs (batch axis included, its
   * size unused), without computing a loss or touching any other state: what the first `loss()` call would do.
   * Build a head whose sizes were left out before collecting its variables for an optimizer. A no-op when
   * already built with sizes that fit; throws naming the size when they do not.
   *
   * @example
   * const vid = new VidRegularizer({ seed: 1 });
   * vid.build({ student: [64, 8, 8, 32], teacher: [64, 8, 8, 128] }); // or studentFeature.shape, ...
   */
  build(shapes: RegularizerInputShapes): void {
    const fn = `${this.className}.build`;
    this.assertUsable('build');
    assertKnownOptions(fn, shapes, ['student', 'teacher'], { required: true });
    const shapeOf = (arg: 'student' | 'teacher'): number[] => {
      const shape = shapes[arg] as unknown;
      if (!Array.isArray(shape) || shape.length === 0 || !shape.every((size) => Number.isInteger(size) && size > 0)) {
        const what = 'a tensor shape of positive integers (batch axis included)';
        throw new Error(`${fn}: shapes.${arg} must be ${what}, got ${JSON.stringify(shape)}`);
      }
      return [...shape] as number[];
    };
    this.buildFromShapes(fn, shapeOf('student'), shapeOf('teacher'));
  }

  /**
   * Where the head finds the sizes its options may leave out (see {@link InferredSize}), with the values known
   * so far. Undefined (the default) for a head whose every size is a constructor option.
   */
  protected inferredSizes(): InferredSizes | undefined {
    return undefined;
  }

  /**
   * Creates the variables from the student's and the teacher's size (each a number or a map's `[H, W, C]`, as
   * {@link inferredSizes} declares), fills them into the options and marks the head built. Called by the
   * subclass's constructor when every size was given, otherwise on first use or by `loadWeights`.
   */
  protected createVariables(fn: string, _student: number | MapSize, _teacher: number | MapSize): void {
    throw new Error(`${fn}: a ${this.className} infers no sizes from inputs (every size is a constructor option)`);
  }

  /** The layout of `loss()`'s student or teacher input, with the size known so far. */
  protected inputLayout(side: 'student' | 'teacher'): InputLayout {
    const inferred = this.inferredSizes();
    if (inferred === undefined) throw new Error(`${this.className}: no input layouts declared`);
    return inputLayout(inferred[side]);
  }

  /**
   * Checks the full shapes of `loss()`'s student and teacher inputs against {@link inferredSizes} and, when not
   * built yet, creates the variables from the sizes they hold. Throws naming `fn` on a rank or size that does not
   * fit the options.
   */
  protected buildFromShapes(fn: string, student: number[], teacher: number[]): void {
    const inferred = this.inferredSizes();
    if (inferred === undefined) {
      throw new Error(`${fn}: a ${this.className} infers no sizes from inputs (every size is a constructor option)`);
    }
    const studentLayout = inputLayout(inferred.student);
    const teacherLayout = inputLayout(inferred.teacher);
    assertShape(fn, 'the student input', student, studentLayout.layout, studentLayout.sizes);
    assertShape(fn, 'the teacher input', teacher, teacherLayout.layout, teacherLayout.sizes);
    if (!this.isBuilt) {
      this.createVariables(fn, sizeFromShape(inferred.student, student), sizeFromShape(inferred.teacher, teacher));
    }
  }

  /**
   * Checks one input of a call against `layout` with the instance's value checks (a size mismatch says where
   * the expected size came from): a non-empty float32 tensor of that rank and those sizes.
   */
  protected checkInput(fn: string, arg: string, value: unknown, layout: InputLayout): tf.Tensor {
    return assertInput(fn, arg, value, layout.layout, layout.sizes, this.valueChecks(), this.sizeOrigin);
  }

  /**
   * Checks `loss()`'s student and teacher inputs (named `studentArg`, `teacherArg` in messages) against their
   * layouts (see {@link inferredSizes}), and that their batch sizes agree.
   */
  protected checkInputs<S extends tf.Tensor = tf.Tensor, T extends tf.Tensor = tf.Tensor>(
    fn: string,
    studentArg: string,
    student: unknown,
    teacherArg: string,
    teacher: unknown,
  ): [S, T] {
    const s = this.checkInput(fn, studentArg, student, this.inputLayout('student'));
    const t = this.checkInput(fn, teacherArg, teacher, this.inputLayout('teacher'));
    assertSameBatch(fn, studentArg, s, teacherArg, t);
    return [s as S, t as T];
  }

  /**
   * A dense layer from `inputs` to `units` with weights `<prefix>/kernel` `[inputs, units]` and `<prefix>/bias`,
   * drawn in that order from `random` with PyTorch's default initialisation (uniform ±1/√inputs).
   */
  protected addDense(random: UniformSampler, prefix: string, inputs: number, units: number): DenseWeights {
    return {
      kernel: this.addVariable(`${prefix}/kernel`, defaultInit(random, inputs * units, inputs), [inputs, units]),
      bias: this.addVariable(`${prefix}/bias`, defaultInit(random, units, inputs), [units]),
    };
  }

  /** `getConfig()` of a head: its own options without the undefined ones (sizes not inferred yet), then the shared. */
  protected configWith(own: { [key: string]: JsonValue | undefined }): RegularizerConfig {
    return { ...withoutUndefined(own), ...this.baseConfig() };
  }

  /** The shared options as they go into `getConfig()` (only what differs from the defaults). */
  protected baseConfig(): RegularizerConfig {
    return this.warnIfUntrained ? {} : { warnIfUntrained: false };
  }

  /**
   * The subclass's variables are complete: called at the end of building (in the constructor when every size
   * was given, otherwise on first use).
   */
  protected markBuilt(): void {
    this.isBuilt = true;
  }

  /**
   * Starts a `loss()` call on validated inputs: builds the head on first use, then counts the call for the
   * untrained-head warning ({@link watchTraining}).
   */
  protected beginLoss(fn: string, student: tf.Tensor, teacher: tf.Tensor): void {
    if (!this.isBuilt) {
      this.buildFromShapes(fn, [...student.shape], [...teacher.shape]);
      this.lazilyBuilt = true;
    }
    this.watchTraining();
  }

  /** For size errors: says where the expected sizes came from when they were inferred. */
  protected get sizeOrigin(): string {
    return this.lazilyBuilt ? ' (sizes inferred from the first loss() call)' : '';
  }

  /**
   * Counts a `loss()` call made under a gradient tape and warns once when, after {@link UNTRAINED_WARNING_CALLS}
   * such calls, no trainable variable has been assigned since the first: an optimizer step assigns new data to
   * every variable in its list, so unchanged data means the head is not in it. Only the tensors' data identity is
   * compared: no value is read, on any backend.
   */
  protected watchTraining(): void {
    if (!this.warnIfUntrained || this.untrainedSettled || !recordingGradients()) return;
    const variables = this.trainableVariables;
    if (variables.length === 0) return;
    const watch = this.untrainedWatch;
    if (watch === undefined) {
      this.untrainedWatch = { dataIds: variables.map((variable) => variable.dataId), calls: 1 };
      return;
    }
    if (variables.some((variable, index) => variable.dataId !== watch.dataIds[index])) {
      this.untrainedSettled = true;
      this.untrainedWatch = undefined;
      return;
    }
    watch.calls += 1;
    if (watch.calls <= UNTRAINED_WARNING_CALLS) return;
    this.untrainedSettled = true;
    this.untrainedWatch = undefined;
    console.warn(
      `${this.className} '${this.name}': its ${variables.length} trainable variables have not changed after ` +
        `${UNTRAINED_WARNING_CALLS} training steps (loss() calls under a gradient tape), so this head trains ` +
        `nothing: they are probably missing from the optimizer's variable list. Pass them together with the ` +
        `student's, e.g. ` +
        `optimizer.minimize(f, false, collectTrainableVariables({ model: student, regularizers: [head] })) ` +
        `(collectTrainableVariables is exported by @kd/losses). If the head is frozen on purpose, construct it ` +
        `with { warnIfUntrained: false }.`,
    );
  }

  /**
   * Builds an unbuilt head from the shapes of saved weights (name → shape) when they determine its sizes (see
   * {@link inferredSizes}), sizes given to the constructor taking precedence (a conflict then fails
   * `loadWeights`' shape check). Builds nothing otherwise, and `loadWeights` throws.
   */
  protected buildFromWeights(shapes: ReadonlyMap<string, number[]>): void {
    const inferred = this.inferredSizes();
    if (inferred === undefined) return;
    const student = sizeFromWeights(inferred.student, shapes);
    const teacher = sizeFromWeights(inferred.teacher, shapes);
    if (student !== undefined && teacher !== undefined) {
      this.createVariables(`${this.className}.loadWeights`, student, teacher);
    }
  }

  /** Throws when the variables do not exist yet. */
  protected assertBuilt(method: string): void {
    if (!this.isBuilt) throw new Error(`${this.className}.${method}: ${this.unbuiltMessage()}`);
  }

  private unbuiltMessage(): string {
    return (
      `this ${this.className} is not built yet (its sizes were left out of the options, so its variables are ` +
      `created from the inputs of the first loss() call): call loss() or build({ student, teacher }) first, ` +
      `or give the sizes to the constructor`
    );
  }

  /**
   * The dense embeddings `embed/student` `[D_s, embedDim]` and `embed/teacher` `[D_t, embedDim]`, in that order
   * (see {@link addDense}), of a head on two vectors (CC, ICD, CRD; their sizes: `embeddedVectorSizes`).
   */
  protected addEmbeddings(
    random: UniformSampler,
    studentDim: number,
    teacherDim: number,
    embedDim: number,
  ): [DenseWeights, DenseWeights] {
    return [
      this.addDense(random, 'embed/student', studentDim, embedDim),
      this.addDense(random, 'embed/teacher', teacherDim, embedDim),
    ];
  }

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

  /** The value checks of one call: the instance's `checkValues` on the active backend. */
  protected valueChecks(): ValueCheckTiming {
    return valueChecks(this.className, this.checkValues);
  }

  /** Throws when the instance has been disposed. */
  protected assertUsable(method: string): void {
    if (this.disposed) throw new Error(`${this.className}.${method}: this regularizer has been disposed`);
  }

  /** Called after `loadWeights` assigned every variable and state entry (to refresh caches). */
  protected afterLoad(): void {}

  async saveWeights(): Promise<EncodedWeights> {
    this.assertUsable('saveWeights');
    this.assertBuilt('saveWeights');
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
    if (!this.isBuilt) {
      const shapes = new Map<string, number[]>();
      for (const spec of artifacts.specs) {
        if (spec !== null && typeof spec === 'object' && Array.isArray(spec.shape)) {
          shapes.set(spec.name, [...spec.shape]);
        }
      }
      this.buildFromWeights(shapes);
      if (!this.isBuilt) {
        throw new Error(`${fn}: ${this.unbuiltMessage()}; the saved shapes do not determine its sizes`);
      }
    }
    const expected = new Map<string, { shape: number[]; dtype: string }>();
    for (const [name, variable] of this.variables) expected.set(name, { shape: variable.shape, dtype: variable.dtype });
    for (const [name, state] of this.states) expected.set(name, { shape: state.shape, dtype: state.dtype });

    let byteLength = 0;
    const seen = new Set<string>();
    for (const spec of artifacts.specs) {
      const want = expected.get(spec.name);
      if (want === undefined) {
        throw new Error(
          `${fn}: unexpected weight '${spec.name}' (this ${this.className} has: ${[...expected.keys()].join(', ')})`,
        );
      }
      if (seen.has(spec.name)) throw new Error(`${fn}: weight '${spec.name}' appears twice`);
      seen.add(spec.name);
      if (spec.quantization !== undefined)
        throw new Error(`${fn}: weight '${spec.name}' is quantized; only float32/int32 weights are supported`);
      if (spec.dtype !== want.dtype)
        throw new Error(`${fn}: weight '${spec.name}' has dtype ${spec.dtype}, expected ${want.dtype}`);
      const shapeMatches =
        spec.shape.length === want.shape.length && spec.shape.every((size, axis) => size === want.shape[axis]);
      if (!shapeMatches) {
        throw new Error(
          `${fn}: weight '${spec.name}' has shape [${spec.shape.join(',')}], expected [${want.shape.join(',')}]`,
        );
      }
      byteLength += 4 * want.shape.reduce((a, b) => a * b, 1);
    }
    const missing = [...expected.keys()].filter((name) => !seen.has(name));
    if (missing.length > 0) throw new Error(`${fn}: missing weights: ${missing.join(', ')}`);
    if (artifacts.data.byteLength !== byteLength) {
      throw new Error(
        `${fn}: weight data is ${artifacts.data.byteLength} bytes, the specs describe ${byteLength} (truncated or corrupt)`,
      );
    }

    // NaN or ±Infinity anywhere would turn every later loss into NaN: reject before anything is assigned.
    let offset = 0;
    for (const spec of artifacts.specs) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.dtype === 'float32') {
        const values = new Float32Array(artifacts.data, offset, count);
        const index = values.findIndex((value) => !Number.isFinite(value));
        if (index >= 0)
          throw new Error(
            `${fn}: weight '${spec.name}' holds ${values[index]} at flat index ${index}; weights must be finite`,
          );
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
    // loaded values count as a fresh start for the untrained-head warning
    this.untrainedWatch = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}
