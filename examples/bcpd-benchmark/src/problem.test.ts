import { describeWithBackends, expectThrowsWith } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { FULL_BENCHMARK } from './config';
import { bayesAccuracy } from './metrics';
import { createProblem, type Problem, type ProblemSpec } from './problem';

/** erfc(x) with fractional error < 1.2e-7 (the Chebyshev fit of Numerical Recipes §6.2). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const polynomial =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(polynomial);
  return x >= 0 ? value : 2 - value;
}

/** Φ(x), the standard normal CDF. */
const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/**
 * P(y = c, x ∈ box) exactly, from the mixture's parameters alone (not its posterior): for axis-aligned boxes and
 * diagonal Gaussians it is π_c Σ_m w_{c,m} Π_j [Φ((b_j − μ_j)/σ_j) − Φ((a_j − μ_j)/σ_j)].
 */
function boxProbability(problem: Problem, classIndex: number, low: number[], high: number[]): number {
  let total = 0;
  for (const component of problem.components) {
    if (component.classIndex !== classIndex) continue;
    let mass = component.weight;
    component.mean.forEach((mean, axis) => {
      const std = component.std[axis]!;
      mass *= normalCdf((high[axis]! - mean) / std) - normalCdf((low[axis]! - mean) / std);
    });
    total += mass;
  }
  return total / problem.spec.numClasses;
}

const PLANE: ProblemSpec = {
  kind: 'mixture',
  dimension: 2,
  numClasses: 3,
  componentsPerClass: 2,
  meanSpread: 1.5,
  componentStd: [0.6, 1.2],
  seed: 3,
};

/**
 * On a grid of 0.5 × 0.5 cells over [−4, 4]²: the Monte-Carlo mean of the closed-form P*(c|x) over the sampler's
 * draws in a cell against the exact P(y = c | x ∈ cell) from the normal CDFs. E[P*(c|x) | x ∈ cell] equals it
 * exactly when P* is the posterior of the distribution the sampler draws from; the cells compared are those whose
 * Monte-Carlo standard error is below 2.5e-4, so 1e-3 is 4 standard errors.
 */
function gridComparison(problem: Problem, posterior: (x: Float64Array) => Float64Array, count: number) {
  const { numClasses: C } = problem.spec;
  const width = 0.5;
  const low = -4;
  const side = 16;
  const sample = problem.sample(count, 'grid-check');
  const probabilities = posterior(sample.x);
  const hits = new Float64Array(side * side);
  const sums = new Float64Array(side * side * C);
  const squares = new Float64Array(side * side * C);
  for (let n = 0; n < count; n++) {
    const a = Math.floor((sample.x[2 * n]! - low) / width);
    const b = Math.floor((sample.x[2 * n + 1]! - low) / width);
    if (a < 0 || b < 0 || a >= side || b >= side) continue;
    const cell = a * side + b;
    hits[cell]! += 1;
    for (let c = 0; c < C; c++) {
      const value = probabilities[n * C + c]!;
      sums[cell * C + c]! += value;
      squares[cell * C + c]! += value * value;
    }
  }
  let worst = 0;
  let checkedMass = 0;
  let cells = 0;
  let worstFrequency = 0;
  for (let a = 0; a < side; a++) {
    for (let b = 0; b < side; b++) {
      const cell = a * side + b;
      const n = hits[cell]!;
      const boxLow = [low + a * width, low + b * width];
      const boxHigh = [boxLow[0]! + width, boxLow[1]! + width];
      const exact = Array.from({ length: C }, (_, c) => boxProbability(problem, c, boxLow, boxHigh));
      const mass = exact.reduce((sum, value) => sum + value, 0);
      // The sampler itself: the cell's frequency against its exact mass, in binomial standard errors.
      worstFrequency = Math.max(
        worstFrequency,
        Math.abs(n / count - mass) / Math.sqrt((mass * (1 - mass)) / count + 1e-300),
      );
      if (n < 100) continue;
      const standardErrors = exact.map((_, c) => {
        const average = sums[cell * C + c]! / n;
        return Math.sqrt(Math.max(squares[cell * C + c]! / n - average * average, 0) / n);
      });
      if (Math.max(...standardErrors) > 2.5e-4) continue;
      cells++;
      checkedMass += mass;
      for (let c = 0; c < C; c++) worst = Math.max(worst, Math.abs(sums[cell * C + c]! / n - exact[c]! / mass));
    }
  }
  return { worst, checkedMass, cells, worstFrequency };
}

describeWithBackends('problem: the closed-form posterior', () => {
  it('equals the Monte-Carlo estimate on a grid to 1e-3, and a wrong posterior does not', () => {
    const problem = createProblem(PLANE);
    const exact = gridComparison(problem, problem.posterior, 2_000_000);
    expect(exact.cells).toBeGreaterThan(20);
    expect(exact.checkedMass).toBeGreaterThan(0.5);
    expect(exact.worst).toBeLessThan(1e-3);
    // The sampler draws from the mixture: every cell's frequency within 5 binomial standard errors of its mass.
    expect(exact.worstFrequency).toBeLessThan(5);
    // The same check fails for the posterior of a slightly different mixture (other component stds).
    const other = createProblem({ ...PLANE, componentStd: [0.65, 1.2] });
    const wrong = gridComparison(problem, other.posterior, 2_000_000);
    expect(wrong.worst).toBeGreaterThan(1e-2);
  }, 120_000);

  it('is a distribution per row, and the warp is inverted exactly with unit Jacobian (so P*(c|x) = P*(c|g⁻¹(x)))', () => {
    const warped = createProblem({
      ...PLANE,
      kind: 'warped',
      dimension: 4,
      warp: { layers: 4, amplitude: 1, frequency: 1 },
    });
    const sample = warped.sample(200, 'check');
    const z = warped.unwarp(sample.x);
    const back = warped.warp(z);
    sample.x.forEach((value, index) => expect(Math.abs(back[index]! - value)).toBeLessThan(1e-12));
    // Jacobian of g at a few z by central differences: det = 1 (additive couplings).
    for (let row = 0; row < 5; row++) {
      const point = z.slice(row * 4, row * 4 + 4);
      const jacobian: number[][] = [];
      for (let j = 0; j < 4; j++) {
        const plus = Float64Array.from(point);
        const minus = Float64Array.from(point);
        plus[j]! += 1e-5;
        minus[j]! -= 1e-5;
        const [gPlus, gMinus] = [warped.warp(plus), warped.warp(minus)];
        jacobian.push(Array.from(gPlus, (value, i) => (value - gMinus[i]!) / 2e-5));
      }
      expect(Math.abs(determinant(jacobian) - 1)).toBeLessThan(1e-6);
    }
    const posterior = warped.posterior(sample.x);
    for (let row = 0; row < 200; row++) {
      const total = posterior[row * 3]! + posterior[row * 3 + 1]! + posterior[row * 3 + 2]!;
      expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    }
    // The warp moves the points (it is not the identity) but not their posterior.
    const base = createProblem({ ...PLANE, dimension: 4 });
    expect(Math.max(...sample.x.map((value, index) => Math.abs(value - z[index]!)))).toBeGreaterThan(0.5);
    const atZ = base.posterior(z);
    posterior.forEach((value, index) => expect(Math.abs(value - atZ[index]!)).toBeLessThan(1e-12));
  });

  it("the benchmark's problems have a Bayes error between 5% and 30%, the warp keeps it", () => {
    const accuracies = FULL_BENCHMARK.problems.map(({ spec }) => {
      const problem = createProblem(spec);
      const sample = problem.sample(20_000, 'bayes-check');
      return bayesAccuracy({
        posterior: problem.posterior(sample.x),
        labels: sample.labels,
        numClasses: spec.numClasses,
      }).expected;
    });
    for (const accuracy of accuracies) {
      expect(accuracy).toBeGreaterThan(0.7);
      expect(accuracy).toBeLessThan(0.95);
    }
    expect(Math.abs(accuracies[0]! - accuracies[1]!)).toBeLessThan(1e-12);
  });

  it('the seed fixes the parameters and the samples; streams and seeds differ', () => {
    const a = createProblem(PLANE).sample(10, 'x');
    expect(Array.from(createProblem(PLANE).sample(10, 'x').x)).toEqual(Array.from(a.x));
    expect(Array.from(createProblem(PLANE).sample(10, 'y').x)).not.toEqual(Array.from(a.x));
    expect(Array.from(createProblem({ ...PLANE, seed: 4 }).sample(10, 'x').x)).not.toEqual(Array.from(a.x));
  });

  it('rejects bad specs and inputs, naming the field', () => {
    expectThrowsWith(() => createProblem({ ...PLANE, numClasses: 1 }), 'createProblem', 'spec.numClasses');
    expectThrowsWith(() => createProblem({ ...PLANE, dimension: 0 }), 'createProblem', 'spec.dimension');
    expectThrowsWith(() => createProblem({ ...PLANE, componentStd: [1, 0.5] }), 'createProblem', 'spec.componentStd');
    expectThrowsWith(() => createProblem({ ...PLANE, kind: 'warped' }), 'createProblem', 'spec.warp');
    expectThrowsWith(
      () => createProblem({ ...PLANE, dimension: 3, kind: 'warped', warp: { layers: 1, amplitude: 1, frequency: 1 } }),
      'createProblem',
      'even dimension',
    );
    expectThrowsWith(() => createProblem(PLANE).posterior(new Float64Array(3)), 'posterior', 'rows of 2');
    expectThrowsWith(() => createProblem(PLANE).sample(0, 'x'), 'sample', 'count');
  });
});

/** Determinant by Gaussian elimination with partial pivoting. */
function determinant(matrix: number[][]): number {
  const a = matrix.map((row) => [...row]);
  const n = a.length;
  let det = 1;
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let row = column + 1; row < n; row++)
      if (Math.abs(a[row]![column]!) > Math.abs(a[pivot]![column]!)) pivot = row;
    if (pivot !== column) {
      [a[pivot], a[column]] = [a[column]!, a[pivot]!];
      det = -det;
    }
    det *= a[column]![column]!;
    for (let row = column + 1; row < n; row++) {
      const factor = a[row]![column]! / a[column]![column]!;
      for (let k = column; k < n; k++) a[row]![k]! -= factor * a[column]![k]!;
    }
  }
  return det;
}
