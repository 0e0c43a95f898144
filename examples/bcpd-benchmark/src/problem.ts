/**
 * Classification problems whose Bayes posterior P*(y|x) is known in closed form.
 *
 * Base problem: a mixture of Gaussians in d dimensions, C classes of equal prior, M components per class with
 * weights w_{c,m} and diagonal covariances:
 *
 *   p(z | c) = Σ_m w_{c,m} N(z; μ_{c,m}, diag(σ²_{c,m})),   P*(c | z) = p(z | c) / Σ_k p(z | k).
 *
 * Warped problem: the same mixture pushed through an invertible nonlinear map x = g(z), so the class regions in
 * x are curved. g is a stack of additive coupling layers (each shifts one half of the coordinates by a sine of
 * the other half, then the halves swap), whose inverse is exact, so
 *
 *   P*(c | x) = π_c p_z(g⁻¹(x) | c) |det J_{g⁻¹}(x)| / Σ_k π_k p_z(g⁻¹(x) | k) |det J_{g⁻¹}(x)| = P*(c | z = g⁻¹(x)):
 *
 * the Jacobian is the same for every class and cancels (for these couplings it is 1 anyway).
 *
 * Everything here is float64 (plain JS numbers); parameters and samples come from seeded streams.
 */
import { createRandomStream, type RandomStream } from '@kd/models';

/** What fixes a problem. */
export interface ProblemSpec {
  /** 'mixture': the Gaussian mixture itself; 'warped': the same mixture through the coupling warp. */
  kind: 'mixture' | 'warped';
  dimension: number;
  numClasses: number;
  componentsPerClass: number;
  /** Std of the component means around 0 (larger: classes overlap less). */
  meanSpread: number;
  /** Each component's per-axis std is drawn uniformly in [low, high]. */
  componentStd: readonly [number, number];
  /** Warp: number of coupling layers, amplitude α and frequency β of x_B += α·sin(β·(A x_A) + φ). */
  warp?: { layers: number; amplitude: number; frequency: number };
  /** Seed of the parameters (means, stds, weights, warp). */
  seed: number;
}

/** One coupling layer: x_B ← x_B + α·sin(β·(A·x_A) + φ), A = `matrix` (half × half, row-major). */
interface CouplingLayer {
  matrix: Float64Array;
  phase: Float64Array;
}

/** A labelled sample: x row-major `[count, dimension]` (float64), labels in [0, numClasses). */
export interface Sample {
  x: Float64Array;
  labels: Int32Array;
  count: number;
}

/** One mixture component (of class `classIndex`): weight w_{c,m} within its class, mean and per-axis std. */
export interface Component {
  readonly classIndex: number;
  readonly weight: number;
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

export interface Problem {
  readonly spec: ProblemSpec;
  /** The C·M components in class order (the parameters the seed fixed). */
  readonly components: readonly Component[];
  /** Draws `count` (x, y) pairs: y uniform, the component by its weight, z Gaussian, x = g(z). */
  sample(count: number, stream: string): Sample;
  /** P*(·|x) for every row of `x` (float64, `[count, numClasses]`). */
  posterior(x: Float64Array): Float64Array;
  /** log P*(·|x) for every row (float64), the oracle teacher's logits. */
  logPosterior(x: Float64Array): Float64Array;
  /** x = g(z) (identity for 'mixture'), row by row. */
  warp(z: Float64Array): Float64Array;
  /** z = g⁻¹(x), row by row. */
  unwarp(x: Float64Array): Float64Array;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

function uniformIn(random: RandomStream, low: number, high: number): number {
  return low + (high - low) * random.uniform();
}

function assertSpec(spec: ProblemSpec): void {
  const fn = 'createProblem';
  for (const key of ['dimension', 'numClasses', 'componentsPerClass', 'seed'] as const) {
    const value = spec[key];
    if (!Number.isSafeInteger(value) || value < (key === 'seed' ? 0 : 1))
      throw new Error(`${fn}: spec.${key} must be a positive integer, got ${value}`);
  }
  if (spec.numClasses < 2) throw new Error(`${fn}: spec.numClasses must be >= 2, got ${spec.numClasses}`);
  if (!(spec.meanSpread > 0 && Number.isFinite(spec.meanSpread)))
    throw new Error(`${fn}: spec.meanSpread must be a positive number, got ${spec.meanSpread}`);
  const [low, high] = spec.componentStd;
  if (!(low > 0 && high >= low && Number.isFinite(high)))
    throw new Error(`${fn}: spec.componentStd must be [low, high] with 0 < low <= high, got [${low}, ${high}]`);
  if (spec.kind !== 'mixture' && spec.kind !== 'warped')
    throw new Error(`${fn}: spec.kind must be 'mixture' or 'warped', got '${String(spec.kind)}'`);
  if (spec.kind === 'warped') {
    if (spec.warp === undefined) throw new Error(`${fn}: a 'warped' problem needs spec.warp`);
    if (spec.dimension % 2 !== 0)
      throw new Error(`${fn}: a 'warped' problem needs an even dimension (the coupling halves), got ${spec.dimension}`);
    if (!Number.isSafeInteger(spec.warp.layers) || spec.warp.layers < 1)
      throw new Error(`${fn}: spec.warp.layers must be a positive integer, got ${spec.warp.layers}`);
  }
}

/** Builds the problem of `spec`: same spec, same parameters. */
export function createProblem(spec: ProblemSpec): Problem {
  assertSpec(spec);
  const { dimension: d, numClasses: C, componentsPerClass: M } = spec;
  const parameters = createRandomStream(spec.seed, 'mixture');
  const K = C * M;
  const means = new Float64Array(K * d);
  const stds = new Float64Array(K * d);
  // log w_{c,m} − Σ_j log σ_{k,j} − (d/2) log 2π, per component k = c·M + m (the z-independent part).
  const logConstant = new Float64Array(K);
  const weights = new Float64Array(K);
  for (let c = 0; c < C; c++) {
    let total = 0;
    for (let m = 0; m < M; m++) {
      const w = uniformIn(parameters, 0.5, 1.5);
      weights[c * M + m] = w;
      total += w;
    }
    for (let m = 0; m < M; m++) weights[c * M + m]! /= total;
  }
  for (let k = 0; k < K; k++) {
    let logDet = 0;
    for (let j = 0; j < d; j++) {
      means[k * d + j] = spec.meanSpread * parameters.normal();
      const std = uniformIn(parameters, spec.componentStd[0], spec.componentStd[1]);
      stds[k * d + j] = std;
      logDet += Math.log(std);
    }
    logConstant[k] = Math.log(weights[k]!) - logDet - (d / 2) * LOG_TWO_PI;
  }

  const half = d / 2;
  const layers: CouplingLayer[] = [];
  if (spec.kind === 'warped') {
    const warpRandom = createRandomStream(spec.seed, 'warp');
    for (let layer = 0; layer < spec.warp!.layers; layer++) {
      const matrix = new Float64Array(half * half);
      for (let index = 0; index < matrix.length; index++) matrix[index] = warpRandom.normal() / Math.sqrt(half);
      const phase = new Float64Array(half);
      for (let index = 0; index < half; index++) phase[index] = 2 * Math.PI * warpRandom.uniform();
      layers.push({ matrix, phase });
    }
  }
  const { amplitude = 0, frequency = 0 } = spec.warp ?? {};

  /** shift_B = α·sin(β·A·x_A + φ), the half that moves; x_A is the other half. */
  const shift = (layer: CouplingLayer, row: Float64Array, offsetA: number, out: Float64Array) => {
    for (let i = 0; i < half; i++) {
      let sum = 0;
      for (let j = 0; j < half; j++) sum += layer.matrix[i * half + j]! * row[offsetA + j]!;
      out[i] = amplitude * Math.sin(frequency * sum + layer.phase[i]!);
    }
  };
  // Layer l moves the second half when l is even, the first half when l is odd (the "swap" without copying).
  const applyWarp = (input: Float64Array, direction: 1 | -1): Float64Array => {
    const output = Float64Array.from(input);
    const count = output.length / d;
    const row = new Float64Array(d);
    const delta = new Float64Array(half);
    const order =
      direction === 1 ? layers.map((_, index) => index) : layers.map((_, index) => layers.length - 1 - index);
    for (let n = 0; n < count; n++) {
      for (let j = 0; j < d; j++) row[j] = output[n * d + j]!;
      for (const index of order) {
        const moving = index % 2 === 0 ? half : 0;
        const fixed = half - moving;
        shift(layers[index]!, row, fixed, delta);
        for (let i = 0; i < half; i++) row[moving + i]! += direction * delta[i]!;
      }
      for (let j = 0; j < d; j++) output[n * d + j] = row[j]!;
    }
    return output;
  };
  const warp = (z: Float64Array) => (layers.length === 0 ? Float64Array.from(z) : applyWarp(z, 1));
  const unwarp = (x: Float64Array) => (layers.length === 0 ? Float64Array.from(x) : applyWarp(x, -1));

  const logPosterior = (x: Float64Array): Float64Array => {
    if (x.length % d !== 0) throw new Error(`posterior: x must hold rows of ${d} values, got ${x.length} values`);
    const z = unwarp(x);
    const count = z.length / d;
    const out = new Float64Array(count * C);
    const componentLog = new Float64Array(K);
    const classLog = new Float64Array(C);
    for (let n = 0; n < count; n++) {
      for (let k = 0; k < K; k++) {
        let quadratic = 0;
        for (let j = 0; j < d; j++) {
          const u = (z[n * d + j]! - means[k * d + j]!) / stds[k * d + j]!;
          quadratic += u * u;
        }
        componentLog[k] = logConstant[k]! - 0.5 * quadratic;
      }
      for (let c = 0; c < C; c++) classLog[c] = logSumExp(componentLog, c * M, M);
      const normaliser = logSumExp(classLog, 0, C);
      for (let c = 0; c < C; c++) out[n * C + c] = classLog[c]! - normaliser;
    }
    return out;
  };

  const components: Component[] = Array.from({ length: K }, (_, k) => ({
    classIndex: Math.floor(k / M),
    weight: weights[k]!,
    mean: means.slice(k * d, (k + 1) * d),
    std: stds.slice(k * d, (k + 1) * d),
  }));
  return {
    spec,
    components,
    warp,
    unwarp,
    logPosterior,
    posterior: (x) => logPosterior(x).map(Math.exp),
    sample(count, stream) {
      if (!Number.isSafeInteger(count) || count < 1)
        throw new Error(`sample: count must be a positive integer, got ${count}`);
      const random = createRandomStream(spec.seed, `sample:${stream}`);
      const z = new Float64Array(count * d);
      const labels = new Int32Array(count);
      for (let n = 0; n < count; n++) {
        const c = Math.min(C - 1, Math.floor(random.uniform() * C));
        labels[n] = c;
        let u = random.uniform();
        let m = 0;
        while (m < M - 1 && u >= weights[c * M + m]!) u -= weights[c * M + m++]!;
        const k = c * M + m;
        for (let j = 0; j < d; j++) z[n * d + j] = means[k * d + j]! + stds[k * d + j]! * random.normal();
      }
      return { x: warp(z), labels, count };
    },
  };
}

/** log Σ_i exp(values[offset + i]) for i < length, without overflow. */
export function logSumExp(values: ArrayLike<number>, offset: number, length: number): number {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, values[offset + i]!);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(values[offset + i]! - max);
  return max + Math.log(sum);
}
