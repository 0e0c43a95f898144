import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { jacobiEigen, jacobiLeading, uniform } from '../test/reference';
import { leadingEigenvector } from './power-iteration';

/** A random symmetric PSD matrix BᵀB with B `rows × n`. */
function randomGram(n: number, rows: number, seed: number): Float64Array {
  const random = uniform(seed);
  const b = Array.from({ length: rows * n }, () => random());
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += b[r * n + i]! * b[r * n + j]!;
      gram[i * n + j] = sum;
    }
  }
  return gram;
}

describeWithBackends('leadingEigenvector', () => {
  it('the Jacobi reference solves a known 2×2 matrix', () => {
    // [[2, 1], [1, 2]] has eigenvalues 3 (v = [1, 1]/√2) and 1.
    const { values } = jacobiEigen([2, 1, 1, 2], 2);
    expect(values.slice().sort()).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
  });

  it.each([
    [3, 10, 1],
    [5, 4, 2],
    [8, 20, 3],
    [16, 6, 4],
    [12, 40, 5],
  ])('agrees with a Jacobi eigen-solver on a random %i×%i Gram matrix (seed %i)', (n, rows, seed) => {
    const gram = randomGram(n, rows, seed);
    const power = leadingEigenvector(gram, n, { tolerance: 1e-10, maxIterations: 100_000 });
    const jacobi = jacobiLeading(gram, n);
    expect(power.eigenvalue).toBeCloseTo(jacobi.value, 8);
    const dot = power.vector.reduce((sum, value, index) => sum + value * jacobi.vector[index]!, 0);
    expect(Math.abs(dot)).toBeCloseTo(1, 8); // same direction up to sign
    expect(power.residual).toBeLessThanOrEqual(1e-10);
  });

  it('returns the zero vector and eigenvalue 0 for the zero matrix (rank 0), without NaN', () => {
    const result = leadingEigenvector(new Float64Array(9), 3);
    expect(Array.from(result.vector)).toEqual([0, 0, 0]);
    expect(result.eigenvalue).toBe(0);
  });

  it('converges in one step on a rank-one matrix c·cᵀ', () => {
    const c = [1, -2, 3];
    const matrix = c.flatMap((a) => c.map((b) => a * b));
    const result = leadingEigenvector(matrix, 3);
    expect(result.iterations).toBeLessThanOrEqual(2);
    expect(result.eigenvalue).toBeCloseTo(14, 10);
    const norm = Math.sqrt(14);
    const sign = Math.sign(result.vector[0]!);
    expect(Array.from(result.vector).map((value) => value * sign)).toEqual(
      c.map((value) => expect.closeTo(value / norm, 10)),
    );
  });

  it('converges when the leading eigenvalues are tied (any vector of their span is a valid answer)', () => {
    const result = leadingEigenvector([2, 0, 0, 0, 2, 0, 0, 0, 1], 3);
    expect(result.eigenvalue).toBeCloseTo(2, 10);
    expect(result.iterations).toBeLessThanOrEqual(60); // the λ = 1 component decays by ½ per step
    expect(Math.abs(result.vector[2]!)).toBeLessThan(1e-5); // residual ≈ |v₃|·(2 − 1)/2 ≤ 1e-6
  });

  it('throws with a clear message when the cap is reached before convergence', () => {
    // Eigenvalues 1 and 0.999: the residual shrinks by 0.999 per step.
    expect(() => leadingEigenvector([1, 0, 0, 0.999], 2, { maxIterations: 5 })).toThrow(
      /leadingEigenvector: power iteration did not converge in maxIterations = 5/,
    );
  });

  it('rejects a matrix of the wrong size and bad options', () => {
    expect(() => leadingEigenvector([1, 2, 3], 2)).toThrow(
      'leadingEigenvector: matrix must hold size² = 4 values, got 3',
    );
    expect(() => leadingEigenvector([1], 1, { tolerance: 0 })).toThrow('leadingEigenvector: tolerance must be > 0');
    expect(() => leadingEigenvector([1], 1, { maxIterations: 1.5 })).toThrow(
      'leadingEigenvector: maxIterations must be an integer',
    );
  });
});
