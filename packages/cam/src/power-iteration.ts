/**
 * Leading eigenpair of a symmetric positive semi-definite matrix by power iteration, in plain float64 JS.
 *
 * Why on the host rather than with tfjs ops: every iteration needs a convergence test, which on a GPU backend
 * is a device→host sync (about a millisecond on webgl) per step, while one host step on a d×d matrix costs d²
 * multiply-adds (d = 64 for a CIFAR ResNet's last stage, at most a few million for d = 2048). Float64 also
 * keeps the residual from stalling at float32 round-off, so the tolerance means what it says.
 */
import { assertNumber } from './validate';
import { SeededRandom } from '@kd/internal';

export interface PowerIterationOptions {
  /** Stop when the relative residual ‖Gv − ρv‖ / ρ falls to this value (ρ = vᵀGv). Default 1e-6. */
  tolerance?: number;
  /** Iteration cap; reaching it without convergence throws. Default 10 000. */
  maxIterations?: number;
}

export interface PowerIterationResult {
  /** Unit eigenvector (length d); all zeros when the matrix is zero. */
  vector: Float64Array;
  /** Its eigenvalue ρ = vᵀGv (0 for the zero matrix). */
  eigenvalue: number;
  /** Iterations used. */
  iterations: number;
  /** Final relative residual ‖Gv − ρv‖ / ρ (0 for the zero matrix). */
  residual: number;
}

/**
 * A fixed start vector: pseudo-random (the packages' seeded generator, seed 1, entries in [0.5, 1.5) so none
 * is tiny) so that it is almost never orthogonal to the leading eigenvector, yet identical on every run (the
 * result's sign is therefore reproducible). Unit length.
 */
export function powerIterationStartVector(size: number): Float64Array {
  const random = new SeededRandom(1, 'power-iteration');
  const start = Float64Array.from({ length: size }, () => 0.5 + random.nextFloat());
  const norm = Math.sqrt(start.reduce((sum, value) => sum + value * value, 0));
  return start.map((value) => value / norm);
}

function multiply(matrix: ArrayLike<number>, size: number, vector: Float64Array, out: Float64Array): void {
  for (let row = 0; row < size; row++) {
    let sum = 0;
    const offset = row * size;
    for (let column = 0; column < size; column++)
      sum += (matrix[offset + column] as number) * (vector[column] as number);
    out[row] = sum;
  }
}

/**
 * Power iteration v ← Gv / ‖Gv‖ on a symmetric PSD `size × size` matrix (row-major). Converged when the relative
 * residual ‖Gv − ρv‖ / ρ ≤ tolerance with ρ = vᵀGv: this is small both when v is close to the leading
 * eigenvector and when the leading eigenvalues are (nearly) tied, where any vector of their span is an equally
 * valid first principal direction. A zero matrix (rank 0) returns the zero vector with eigenvalue 0.
 *
 * @example
 * const { vector, eigenvalue } = leadingEigenvector(new Float64Array([2, 0, 0, 1]), 2); // [±1, 0], 2
 */
export function leadingEigenvector(
  matrix: ArrayLike<number>,
  size: number,
  { tolerance = 1e-6, maxIterations = 10_000 }: PowerIterationOptions = {},
): PowerIterationResult {
  const fn = 'leadingEigenvector';
  assertNumber(fn, 'size', size, { integer: true, positive: true });
  assertNumber(fn, 'tolerance', tolerance, { positive: true });
  assertNumber(fn, 'maxIterations', maxIterations, { integer: true, positive: true });
  if (matrix.length !== size * size) {
    throw new Error(`${fn}: matrix must hold size² = ${size * size} values, got ${matrix.length}`);
  }
  let vector: Float64Array = powerIterationStartVector(size);
  let product: Float64Array = new Float64Array(size);
  let residual = Infinity;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    multiply(matrix, size, vector, product);
    let rayleigh = 0; // ρ = vᵀGv
    let productNorm = 0;
    for (let index = 0; index < size; index++) {
      rayleigh += (vector[index] as number) * (product[index] as number);
      productNorm += (product[index] as number) ** 2;
    }
    productNorm = Math.sqrt(productNorm);
    // Rank 0 (or a start vector in the null space of a PSD matrix, i.e. Gv = 0 ⇒ vᵀGv = 0): nothing to project on.
    if (productNorm === 0 || !(rayleigh > 0)) {
      return { vector: new Float64Array(size), eigenvalue: 0, iterations: iteration, residual: 0 };
    }
    let residualSquared = 0; // ‖Gv − ρv‖²
    for (let index = 0; index < size; index++) {
      residualSquared += ((product[index] as number) - rayleigh * (vector[index] as number)) ** 2;
    }
    residual = Math.sqrt(residualSquared) / rayleigh;
    if (residual <= tolerance) return { vector, eigenvalue: rayleigh, iterations: iteration, residual };
    for (let index = 0; index < size; index++) product[index] = (product[index] as number) / productNorm;
    [vector, product] = [product, vector];
  }
  throw new Error(
    `${fn}: power iteration did not converge in maxIterations = ${maxIterations} steps ` +
      `(relative residual ${residual.toExponential(2)} > tolerance ${tolerance}); the two leading eigenvalues are ` +
      `close but not equal: raise maxIterations or tolerance`,
  );
}
