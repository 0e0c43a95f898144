import {
  describeWithBackends,
  expectArraysClose,
  expectClose,
  expectThrowsWith,
  randomTensor,
  scalarOf,
  tf,
} from '@kd/test-utils';
import { expect, it } from 'vitest';
import {
  expectGradientsReachEveryVariable,
  expectMinimizeIsLeakFree,
  expectSameWeights,
  expectVariableGradientMatchesFiniteDifferences,
  lossValue,
  variableOf,
  weightOf,
} from './__fixtures__/helpers';
import { type Plain, denseJs, dot, normalizeRow, plain, rows } from './__fixtures__/reference';
import { CrdRegularizer, type CrdRegularizerOptions } from './crd-regularizer';

const N = 12;
const LABELS = Array.from({ length: N }, (_, index) => index % 3);
const OPTIONS: CrdRegularizerOptions = {
  studentDim: 3,
  teacherDim: 4,
  embedDim: 5,
  datasetSize: N,
  labels: LABELS,
  numNegatives: 4,
  temperature: 0.5,
  seed: 21,
};

/** One NCE direction with loops: anchors v_b against memory rows of the positive and the sampled negatives. */
function referenceDirection(
  anchors: number[][],
  memory: number[][],
  indices: Int32Array,
  negatives: Int32Array[],
  z: number | undefined,
) {
  const { temperature = 0.07, numNegatives: k = 16384 } = OPTIONS;
  const scores = anchors.map((v, b) =>
    [indices[b] as number, ...(negatives[b] as Int32Array)].map((j) => dot(memory[j] as number[], v) / temperature),
  );
  const all = scores.flat();
  const partition = z ?? (all.reduce((total, score) => total + Math.exp(score), 0) / all.length) * N;
  const noise = k / N;
  let total = 0;
  for (const row of scores) {
    const [positive, ...rest] = row.map((score) => Math.exp(score) / partition) as [number, ...number[]];
    total += Math.log(positive / (positive + noise + 1e-7));
    for (const p of rest) total += Math.log(noise / (p + noise + 1e-7));
  }
  return { loss: -total / anchors.length, partition };
}

function embeddings(crd: CrdRegularizer, side: 'student' | 'teacher', x: Plain): number[][] {
  return rows(denseJs(x, weightOf(crd, `embed/${side}/kernel`), weightOf(crd, `embed/${side}/bias`))).map(normalizeRow);
}

describeWithBackends('CrdRegularizer', () => {
  it('equals the two-direction NCE loss computed with loops, with Z fixed at the first batch', () => {
    const crd = new CrdRegularizer(OPTIONS);
    const twin = new CrdRegularizer(OPTIONS); // same seed: draws the same negatives
    const batches = [
      { s: randomTensor([3, 3], 1), t: randomTensor([3, 4], 2), indices: Int32Array.of(0, 4, 8) },
      { s: randomTensor([3, 3], 3), t: randomTensor([3, 4], 4), indices: Int32Array.of(1, 4, 11) },
    ];
    let partitions: [number | undefined, number | undefined] = [undefined, undefined];
    for (const { s, t, indices } of batches) {
      const negatives = twin.sampleNegatives(indices);
      const studentMemory = rows(weightOf(crd, 'memory/student'));
      const teacherMemory = rows(weightOf(crd, 'memory/teacher'));
      const studentSide = referenceDirection(
        embeddings(crd, 'student', plain(s)),
        teacherMemory,
        indices,
        negatives,
        partitions[0],
      );
      const teacherSide = referenceDirection(
        embeddings(crd, 'teacher', plain(t)),
        studentMemory,
        indices,
        negatives,
        partitions[1],
      );
      partitions = [studentSide.partition, teacherSide.partition];
      expectClose(scalarOf(crd.loss(s, t, indices)), studentSide.loss + teacherSide.loss, { rtol: 1e-5 });
      expectArraysClose(crd.partitionConstants, partitions as number[], { rtol: 1e-5 });
      crd.updateMemory();
      twin.discardPendingUpdate();
    }
    batches.forEach(({ s, t }) => tf.dispose([s, t]));
    crd.dispose();
    twin.dispose();
  });

  it('draws negatives only from other classes: distinct when K ≤ pool, with replacement beyond, roughly uniform', () => {
    const labels = Array.from({ length: 30 }, (_, index) => index % 3);
    const small = new CrdRegularizer({ ...OPTIONS, datasetSize: 30, labels, numNegatives: 7 });
    const indices = Int32Array.of(0, 1, 2, 5);
    for (let round = 0; round < 20; round++) {
      small.sampleNegatives(indices).forEach((negatives, row) => {
        const ownClass = labels[indices[row] as number];
        expect(negatives.length).toBe(7);
        expect([...negatives].every((index) => labels[index] !== ownClass)).toBe(true);
        expect(new Set(negatives).size).toBe(7);
      });
    }
    const large = new CrdRegularizer({ ...OPTIONS, datasetSize: 30, labels, numNegatives: 25 });
    large.sampleNegatives(indices).forEach((negatives, row) => {
      expect(negatives.length).toBe(25);
      expect([...negatives].every((index) => labels[index] !== labels[indices[row] as number])).toBe(true);
    });
    const single = new CrdRegularizer({ ...OPTIONS, datasetSize: 30, labels, numNegatives: 1 });
    const counts = new Map<number, number>();
    for (let round = 0; round < 4000; round++) {
      const [negatives] = single.sampleNegatives(Int32Array.of(3));
      const drawn = (negatives as Int32Array)[0] as number;
      counts.set(drawn, (counts.get(drawn) ?? 0) + 1);
    }
    expect(counts.size).toBe(20); // every index of classes 1 and 2, none of class 0
    expect(Math.min(...counts.values())).toBeGreaterThan(130); // expectation 200 each
    expect(Math.max(...counts.values())).toBeLessThan(270);
    [small, large, single].forEach((crd) => crd.dispose());
  });

  it('updates the memory rows of the batch as normalise(μ·m + (1−μ)·v) and leaves the others untouched', () => {
    const crd = new CrdRegularizer({ ...OPTIONS, momentum: 0.3 });
    const s = randomTensor([2, 3], 5);
    const t = randomTensor([2, 4], 6);
    const indices = Int32Array.of(2, 7);
    const studentBefore = rows(weightOf(crd, 'memory/student'));
    const teacherBefore = rows(weightOf(crd, 'memory/teacher'));
    const vs = embeddings(crd, 'student', plain(s));
    const vt = embeddings(crd, 'teacher', plain(t));
    crd.loss(s, t, indices).dispose();
    expect(crd.hasPendingUpdate).toBe(true);
    expectThrowsWith(() => crd.loss(s, t, indices), 'CrdRegularizer.loss', 'updateMemory()');
    crd.updateMemory();
    expect(crd.hasPendingUpdate).toBe(false);
    for (const [before, after, v] of [
      [studentBefore, rows(weightOf(crd, 'memory/student')), vs],
      [teacherBefore, rows(weightOf(crd, 'memory/teacher')), vt],
    ] as const) {
      after.forEach((row, index) => {
        const position = [...indices].indexOf(index);
        if (position < 0) {
          expect(row).toEqual(before[index]);
          return;
        }
        const mixed = (before[index] as number[]).map(
          (m, d) => 0.3 * m + 0.7 * ((v[position] as number[])[d] as number),
        );
        expectArraysClose(row, normalizeRow(mixed), { rtol: 1e-5 });
      });
    }
    expectThrowsWith(() => crd.updateMemory(), 'CrdRegularizer.updateMemory', 'no pending update');
    tf.dispose([s, t]);
    crd.dispose();
  });

  it('accepts a sample twice in a batch: each occurrence is its own positive, the last one writes the memory', () => {
    const crd = new CrdRegularizer({ ...OPTIONS, momentum: 0.3 });
    const twin = new CrdRegularizer({ ...OPTIONS, momentum: 0.3 });
    const s = randomTensor([3, 3], 31);
    const t = randomTensor([3, 4], 32);
    // rows 0 and 2 are the same sample (dataset index 4) with different augmentations
    const indices = Int32Array.of(4, 9, 4);
    const negatives = twin.sampleNegatives(indices);
    const studentBefore = rows(weightOf(crd, 'memory/student'));
    const teacherBefore = rows(weightOf(crd, 'memory/teacher'));
    const vs = embeddings(crd, 'student', plain(s));
    const vt = embeddings(crd, 'teacher', plain(t));
    const studentSide = referenceDirection(vs, teacherBefore, indices, negatives, undefined);
    const teacherSide = referenceDirection(vt, studentBefore, indices, negatives, undefined);
    expectClose(scalarOf(crd.loss(s, t, indices)), studentSide.loss + teacherSide.loss, { rtol: 1e-5 });
    crd.updateMemory();
    for (const [before, after, v] of [
      [studentBefore, rows(weightOf(crd, 'memory/student')), vs],
      [teacherBefore, rows(weightOf(crd, 'memory/teacher')), vt],
    ] as const) {
      const write = (index: number, position: number) =>
        normalizeRow(
          (before[index] as number[]).map((m, d) => 0.3 * m + 0.7 * ((v[position] as number[])[d] as number)),
        );
      expectArraysClose(after[4] as number[], write(4, 2), { rtol: 1e-5 }); // the last occurrence (row 2)
      expectArraysClose(after[9] as number[], write(9, 1), { rtol: 1e-5 });
      after.forEach((row, index) => {
        if (index !== 4 && index !== 9) expect(row).toEqual(before[index]);
      });
    }
    tf.dispose([s, t]);
    crd.dispose();
    twin.dispose();
  });

  it('sends gradients to both heads (finite-difference exact) and none to the memory banks', () => {
    // K = the whole pool of other classes (8 of 12), without replacement: every call draws the same set, so
    // the loss is a deterministic function of the weights
    const crd = new CrdRegularizer({ ...OPTIONS, numNegatives: 8 });
    const s = randomTensor([3, 3], 7);
    const t = randomTensor([3, 4], 8);
    const indices = Int32Array.of(0, 5, 10);
    crd.loss(s, t, indices).dispose(); // fixes Z
    crd.discardPendingUpdate();
    const loss = () => {
      const value = crd.loss(s, t, indices);
      crd.discardPendingUpdate();
      return value;
    };
    expect(crd.nonTrainableVariables.map((variable) => variable.name)).toEqual([
      `${crd.name}/memory/student`,
      `${crd.name}/memory/teacher`,
    ]);
    expectGradientsReachEveryVariable(loss, crd.trainableVariables);
    expectVariableGradientMatchesFiniteDifferences(loss, variableOf(crd, 'embed/student/kernel'), {
      maxElements: 5,
      step: 1e-2,
    });
    expectVariableGradientMatchesFiniteDifferences(loss, variableOf(crd, 'embed/teacher/bias'), {
      maxElements: 5,
      step: 1e-2,
    });
    tf.dispose([s, t]);
    crd.dispose();
  });

  it('round-trips weights, memories, Z and sampler state: a loaded copy continues identically', async () => {
    const source = new CrdRegularizer(OPTIONS);
    const s = randomTensor([3, 3], 9);
    const t = randomTensor([3, 4], 10);
    source.loss(s, t, Int32Array.of(0, 1, 2)).dispose();
    source.updateMemory();
    const artifacts = await source.saveWeights();
    const next = Int32Array.of(3, 6, 9);
    const expected = lossValue(() => source.loss(s, t, next));
    source.updateMemory();
    const target = new CrdRegularizer({ ...OPTIONS, seed: 99 });
    target.loadWeights(artifacts);
    expect(target.partitionConstants).toEqual(source.partitionConstants);
    expect(target.partitionConstants[0]).toBeGreaterThan(0);
    expect(lossValue(() => target.loss(s, t, next))).toBe(expected);
    target.updateMemory();
    expectSameWeights(source, target);
    const other = new CrdRegularizer({ ...OPTIONS, embedDim: 6 });
    expectThrowsWith(() => other.loadWeights(artifacts), 'CrdRegularizer.loadWeights', 'shape');
    tf.dispose([s, t]);
    [source, target, other].forEach((crd) => crd.dispose());
  });

  it('keeps the tensor count flat over minimize steps followed by memory updates', () => {
    const crd = new CrdRegularizer(OPTIONS);
    const s = randomTensor([3, 3], 11);
    const t = randomTensor([3, 4], 12);
    const indices = Int32Array.of(1, 2, 3);
    expectMinimizeIsLeakFree(() => crd.loss(s, t, indices), crd.trainableVariables, {
      steps: 4,
      afterStep: () => crd.updateMemory(),
    });
    tf.dispose([s, t]);
    crd.dispose();
  });

  it('rejects bad options, indices and inputs', () => {
    const fn = 'CrdRegularizer';
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, labels: LABELS.slice(1) }), fn, 'labels', 'datasetSize');
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, labels: LABELS.map(() => 1) }), fn, 'two classes');
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, labels: [...LABELS.slice(1), -1] }), fn, 'labels[11]');
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, momentum: 1 }), fn, 'momentum');
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, temperature: 0 }), fn, 'temperature');
    expectThrowsWith(() => new CrdRegularizer({ ...OPTIONS, numNegatives: 0 }), fn, 'numNegatives');
    // Too large to allocate: rejected at once (before the labels are even read), with the memory it would take.
    const huge = { ...OPTIONS, embedDim: 128, datasetSize: 3e7, labels: [] };
    expect(() => new CrdRegularizer(huge)).toThrow(
      'CrdRegularizer: each memory bank [datasetSize 30000000, embedDim 128] would need 3.840e+9 values, 15.4 GB (30.7 GB in all); one tensor holds at most 2147483647 values (8.6 GB)',
    );
    expectThrowsWith(
      () => new CrdRegularizer({ ...OPTIONS, embedDim: 128, studentDim: 2 ** 26 }),
      fn,
      'the embedding [studentDim 67108864, embedDim 128]',
      '34.4 GB',
    );
    const crd = new CrdRegularizer(OPTIONS);
    const s = randomTensor([2, 3], 13);
    const t = randomTensor([2, 4], 14);
    expectThrowsWith(
      () => crd.loss(s, t, Int32Array.of(0, 12)),
      'CrdRegularizer.loss',
      'indices[1] = 12',
      'out of range',
    );
    expectThrowsWith(() => crd.loss(s, t, Int32Array.of(4)), 'CrdRegularizer.loss', 'indices');
    expectThrowsWith(() => crd.loss(s, t, [0, 1] as never), 'CrdRegularizer.loss', 'Int32Array');
    expectThrowsWith(() => crd.loss(t, t, Int32Array.of(0, 1)), 'CrdRegularizer.loss', 'studentVector');
    expect(crd.hasPendingUpdate).toBe(false);
    tf.dispose([s, t]);
    crd.dispose();
  });
});
