/** Plain-JS reference implementations the tests compare against (no tfjs, no shared code with src/). */

/**
 * Cyclic Jacobi eigen-solver for a symmetric n×n matrix (row-major): rotate away each off-diagonal entry until
 * the off-diagonal norm vanishes. Returns eigenvalues and eigenvectors (columns of V), unsorted.
 */
export function jacobiEigen(matrix: ArrayLike<number>, n: number): { values: number[]; vectors: number[][] } {
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => matrix[i * n + j] as number));
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i]![j]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = a.map((row, i) => row[i]!);
  const vectors = values.map((_, column) => v.map((row) => row[column]!));
  return { values, vectors };
}

/** The leading (largest-eigenvalue) eigenpair from {@link jacobiEigen}. */
export function jacobiLeading(matrix: ArrayLike<number>, n: number): { value: number; vector: number[] } {
  const { values, vectors } = jacobiEigen(matrix, n);
  let best = 0;
  for (let i = 1; i < n; i++) if (values[i]! > values[best]!) best = i;
  return { value: values[best]!, vector: vectors[best]! };
}

/**
 * Eigen-CAM of one [H, W, C] activation (row-major values) by the textbook route: centre the columns of M,
 * take the Jacobi leading eigenvector of M̃ᵀM̃, project, sign-correct, ReLU, min–max with 1e-7.
 */
export function referenceEigenCam(
  values: ArrayLike<number>,
  positions: number,
  channels: number,
  signCorrection = true,
): number[] {
  const m = Array.from({ length: positions }, (_, p) =>
    Array.from({ length: channels }, (_, c) => values[p * channels + c] as number),
  );
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    for (let p = 0; p < positions; p++) mean += m[p]![c]!;
    mean /= positions;
    for (let p = 0; p < positions; p++) m[p]![c] = m[p]![c]! - mean;
  }
  const gram = new Float64Array(channels * channels);
  for (let i = 0; i < channels; i++) {
    for (let j = 0; j < channels; j++) {
      let sum = 0;
      for (let p = 0; p < positions; p++) sum += m[p]![i]! * m[p]![j]!;
      gram[i * channels + j] = sum;
    }
  }
  const { vector } = jacobiLeading(gram, channels);
  const cam = m.map((row) => row.reduce((sum, value, c) => sum + value * vector[c]!, 0));
  return postProcess(cam, signCorrection);
}

/** Sign fix (|min| > |max| → negate), ReLU, (x − min)/(max − min + 1e-7). */
export function postProcess(cam: number[], signCorrection: boolean): number[] {
  const min = Math.min(...cam);
  const max = Math.max(...cam);
  const sign = signCorrection && Math.abs(min) > Math.abs(max) ? -1 : 1;
  const relu = cam.map((value) => Math.max(sign * value, 0));
  const low = Math.min(...relu);
  const high = Math.max(...relu);
  return relu.map((value) => (value - low) / (high - low + 1e-7));
}

/** A seeded uniform generator in [low, high) (mulberry32). */
export function uniform(seed: number, low = -1, high = 1): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}
