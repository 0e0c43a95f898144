import { describeWithBackends, tf } from '@kd/test-utils';
import { afterEach, expect, it, vi } from 'vitest';
import {
  CentroidTracker,
  CorrelationCongruenceRegularizer,
  CrdRegularizer,
  FactorTransferRegularizer,
  FitNetRegularizer,
  IcdRegularizer,
  MimkdRegularizer,
  VidLpRegularizer,
  VidRegularizer,
  VidVectorRegularizer,
  abLoss,
  attentionTransferLoss,
  classCentroids,
  conditionalMutualInformation,
  correlationCongruenceLoss,
  crossEntropy,
  dkdLoss,
  factorTransferLoss,
  fitNetLoss,
  fspLoss,
  icdLoss,
  infoNceLoss,
  kdLoss,
  mcmiLoss,
  nstLoss,
  pktLoss,
  rkdLoss,
  similarityPreservingLoss,
  vidLoss,
  type ValueCheckOption,
} from './index';
import { flushValueChecks, valueCheckTiming } from './validate';

/** Tensors of a value-check case: a NaN placed at element 0 of `poisoned`, everything else finite. */
interface Inputs {
  /** [4, 3] logits / vectors (row 0 holds the NaN when poisoned). */
  matrix: tf.Tensor2D;
  cleanMatrix: tf.Tensor2D;
  /** [2, 4, 4, 3] maps (element 0 NaN when poisoned). */
  map: tf.Tensor4D;
  cleanMap: tf.Tensor4D;
  labels: tf.Tensor1D;
}

type Check = ValueCheckOption['checkValues'];

/**
 * Every public entry point of @kd/losses that scans values: its name in errors, the argument that receives the
 * NaN, and a call with the given `checkValues` that returns the (scalar or matrix) result.
 */
const CASES: Array<{ fn: string; arg: string; call: (inputs: Inputs, checkValues: Check) => tf.Tensor }> = [
  { fn: 'kdLoss', arg: 'studentLogits', call: (x, checkValues) => kdLoss(x.matrix, x.cleanMatrix, { checkValues }) },
  { fn: 'crossEntropy', arg: 'logits', call: (x, checkValues) => crossEntropy(x.matrix, x.labels, { checkValues }) },
  {
    fn: 'classCentroids',
    arg: 'logits',
    call: (x, checkValues) => classCentroids(x.matrix, x.labels, 3, { checkValues }),
  },
  {
    fn: 'conditionalMutualInformation',
    arg: 'logits',
    call: (x, checkValues) => conditionalMutualInformation(x.matrix, x.labels, { numClasses: 3, checkValues }),
  },
  {
    fn: 'mcmiLoss',
    arg: 'logits',
    call: (x, checkValues) => mcmiLoss(x.matrix, x.labels, { numClasses: 3, checkValues }),
  },
  {
    fn: 'vidLoss',
    arg: 'target',
    call: (x, checkValues) => tf.tidy(() => vidLoss(x.matrix, x.cleanMatrix, tf.zeros([3]), { checkValues })),
  },
  {
    fn: 'infoNceLoss',
    arg: 'anchors',
    call: (x, checkValues) => infoNceLoss(x.matrix, x.cleanMatrix, { checkValues }),
  },
  {
    fn: 'icdLoss',
    arg: 'studentEmbeddings',
    call: (x, checkValues) => icdLoss(x.matrix, x.cleanMatrix, { logitScale: 2, checkValues }),
  },
  {
    fn: 'dkdLoss',
    arg: 'studentLogits',
    call: (x, checkValues) => dkdLoss(x.matrix, x.cleanMatrix, x.labels, { checkValues }),
  },
  {
    fn: 'attentionTransferLoss',
    arg: 'studentFeature',
    call: (x, checkValues) => attentionTransferLoss(x.map, x.cleanMap, { checkValues }),
  },
  {
    fn: 'fitNetLoss',
    arg: 'regressedStudent',
    call: (x, checkValues) => fitNetLoss(x.map, x.cleanMap, { checkValues }),
  },
  {
    fn: 'similarityPreservingLoss',
    arg: 'studentFeature',
    call: (x, checkValues) => similarityPreservingLoss(x.map, x.cleanMap, { checkValues }),
  },
  {
    fn: 'correlationCongruenceLoss',
    arg: 'studentEmbedding',
    call: (x, checkValues) => correlationCongruenceLoss(x.matrix, x.cleanMatrix, { checkValues }),
  },
  {
    fn: 'rkdLoss',
    arg: 'studentEmbedding',
    call: (x, checkValues) => rkdLoss(x.matrix, x.cleanMatrix, { checkValues }),
  },
  {
    fn: 'pktLoss',
    arg: 'studentEmbedding',
    call: (x, checkValues) => pktLoss(x.matrix, x.cleanMatrix, { checkValues }),
  },
  { fn: 'nstLoss', arg: 'studentFeature', call: (x, checkValues) => nstLoss(x.map, x.cleanMap, { checkValues }) },
  { fn: 'abLoss', arg: 'studentPreact', call: (x, checkValues) => abLoss(x.map, x.cleanMap, { checkValues }) },
  {
    fn: 'fspLoss',
    arg: 'studentFeatures[0]',
    call: (x, checkValues) => fspLoss([x.map, x.cleanMap], [x.cleanMap, x.cleanMap], { checkValues }),
  },
  {
    fn: 'factorTransferLoss',
    arg: 'studentFactor',
    call: (x, checkValues) => factorTransferLoss(x.map, x.cleanMap, { checkValues }),
  },
];

/** A regularizer built with `checkValues`, one checked method called with the NaN input, then disposed. */
function withRegularizer<T extends { dispose(): void }>(build: () => T, use: (regularizer: T) => tf.Tensor): tf.Tensor {
  const regularizer = build();
  try {
    return use(regularizer);
  } finally {
    regularizer.dispose();
  }
}

const REGULARIZER_CASES: typeof CASES = [
  {
    fn: 'VidRegularizer.loss',
    arg: 'studentFeature',
    call: (x, checkValues) =>
      withRegularizer(
        () => new VidRegularizer({ studentChannels: 3, teacherChannels: 3, seed: 1, checkValues }),
        (vid) => vid.loss(x.map, x.cleanMap),
      ),
  },
  {
    fn: 'VidLpRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () => new VidLpRegularizer({ studentDim: 3, teacherDim: 3, seed: 1, checkValues }),
        (vid) => vid.loss(x.matrix, x.cleanMatrix),
      ),
  },
  {
    fn: 'VidVectorRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () => new VidVectorRegularizer({ studentDim: 3, teacherShape: [4, 4, 3], seed: 1, checkValues }),
        (vid) => tf.tidy(() => vid.loss(tf.slice(x.matrix, [0, 0], [2, 3]), x.cleanMap)),
      ),
  },
  {
    fn: 'CrdRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () =>
          new CrdRegularizer({
            studentDim: 3,
            teacherDim: 3,
            embedDim: 2,
            datasetSize: 6,
            numNegatives: 2,
            labels: [0, 1, 2, 0, 1, 2],
            seed: 1,
            checkValues,
          }),
        (crd) => {
          const loss = crd.loss(x.matrix, x.cleanMatrix, Int32Array.of(0, 1, 2, 3));
          crd.discardPendingUpdate();
          return loss;
        },
      ),
  },
  {
    fn: 'IcdRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () => new IcdRegularizer({ studentDim: 3, teacherDim: 3, embedDim: 2, seed: 1, checkValues }),
        (icd) => icd.loss(x.matrix, x.cleanMatrix),
      ),
  },
  {
    fn: 'MimkdRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () => new MimkdRegularizer({ studentDim: 3, teacherChannels: 3, embedDim: 2, seed: 1, checkValues }),
        (mi) => tf.tidy(() => mi.loss(tf.slice(x.matrix, [0, 0], [2, 3]), x.cleanMap)),
      ),
  },
  {
    fn: 'FitNetRegularizer.loss',
    arg: 'studentFeature',
    call: (x, checkValues) =>
      withRegularizer(
        () => new FitNetRegularizer({ studentShape: [4, 4, 3], teacherShape: [4, 4, 3], seed: 1, checkValues }),
        (fitNet) => fitNet.loss(x.map, x.cleanMap),
      ),
  },
  {
    fn: 'FitNetRegularizer.regress',
    arg: 'studentFeature',
    call: (x, checkValues) =>
      withRegularizer(
        () => new FitNetRegularizer({ studentShape: [4, 4, 3], teacherShape: [4, 4, 5], seed: 1, checkValues }),
        (fitNet) => fitNet.regress(x.map),
      ),
  },
  {
    fn: 'CorrelationCongruenceRegularizer.loss',
    arg: 'studentVector',
    call: (x, checkValues) =>
      withRegularizer(
        () => new CorrelationCongruenceRegularizer({ studentDim: 3, teacherDim: 3, embedDim: 2, seed: 1, checkValues }),
        (cc) => cc.loss(x.matrix, x.cleanMatrix),
      ),
  },
  {
    fn: 'FactorTransferRegularizer.loss',
    arg: 'studentFeature',
    call: (x, checkValues) =>
      withRegularizer(
        () => new FactorTransferRegularizer({ studentChannels: 3, teacherChannels: 3, seed: 1, checkValues }),
        (ft) => ft.loss(x.map, x.cleanMap),
      ),
  },
  {
    fn: 'FactorTransferRegularizer.reconstructionLoss',
    arg: 'teacherFeature',
    call: (x, checkValues) =>
      withRegularizer(
        () => new FactorTransferRegularizer({ studentChannels: 3, teacherChannels: 3, seed: 1, checkValues }),
        (ft) => ft.reconstructionLoss(x.map),
      ),
  },
];

function makeInputs(poisoned: boolean): Inputs {
  const matrixValues = [0.5, -1, 2, 1, 0.25, -0.5, -2, 1.5, 0.75, 0.3, -0.7, 1.1];
  const mapValues = Array.from({ length: 2 * 4 * 4 * 3 }, (_, index) => Math.sin(index + 1));
  const poison = (values: number[]) => (poisoned ? [Number.NaN, ...values.slice(1)] : values);
  return {
    matrix: tf.tensor2d(poison(matrixValues), [4, 3]),
    cleanMatrix: tf.tensor2d(
      matrixValues.map((value) => value / 2 + 0.1),
      [4, 3],
    ),
    map: tf.tensor4d(poison(mapValues), [2, 4, 4, 3]),
    cleanMap: tf.tensor4d(
      mapValues.map((value) => Math.cos(value)),
      [2, 4, 4, 3],
    ),
    labels: tf.tensor1d([0, 1, 2, 0], 'int32'),
  };
}

function disposeInputs(inputs: Inputs): void {
  tf.dispose([inputs.matrix, inputs.cleanMatrix, inputs.map, inputs.cleanMap, inputs.labels]);
}

/** Runs `body` on a backend named `name` that is the cpu backend under another name (no host-memory shortcut). */
async function onRenamedCpuBackend(name: string, body: () => Promise<void> | void): Promise<void> {
  const previous = tf.getBackend();
  if (tf.findBackend(name) === null) {
    const CpuBackend = tf.backend().constructor as new () => tf.KernelBackend;
    tf.registerBackend(name, () => new CpuBackend());
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: name });
  }
  await tf.setBackend(name);
  try {
    await body();
  } finally {
    await tf.setBackend(previous);
  }
}

describeWithBackends('value checks', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await flushValueChecks().catch(() => undefined);
  });

  it("valueCheckTiming: 'auto' is synchronous on host-memory backends and deferred on GPU backends", () => {
    expect(valueCheckTiming({ backend: 'cpu' })).toBe('sync');
    expect(valueCheckTiming({ backend: 'wasm' })).toBe('sync');
    expect(valueCheckTiming({ backend: 'tensorflow' })).toBe('sync');
    expect(valueCheckTiming({ backend: 'webgl' })).toBe('deferred');
    expect(valueCheckTiming({ checkValues: 'auto', backend: 'webgpu' })).toBe('deferred');
    expect(valueCheckTiming({ checkValues: true, backend: 'webgl' })).toBe('sync');
    expect(valueCheckTiming({ checkValues: false, backend: 'cpu' })).toBe('off');
    expect(valueCheckTiming({ checkValues: 'deferred', backend: 'cpu' })).toBe('deferred');
    expect(valueCheckTiming({})).toBe(['cpu', 'wasm', 'tensorflow'].includes(tf.getBackend()) ? 'sync' : 'deferred');
  });

  it('valueCheckTiming rejects an unknown mode and an unknown key', () => {
    expect(() => valueCheckTiming({ checkValues: 'lazy' as never })).toThrow(
      `valueCheckTiming: checkValues must be true, false, 'auto' or 'deferred', got "lazy"`,
    );
    expect(() => valueCheckTiming({ checkValue: true } as never)).toThrow(
      "valueCheckTiming: unknown option 'checkValue', did you mean 'checkValues'?",
    );
  });

  for (const { fn, arg, call } of [...CASES, ...REGULARIZER_CASES]) {
    it(`${fn}: checkValues true throws, false lets the NaN through, the default checks`, () => {
      const poisoned = makeInputs(true);
      try {
        const message = `${fn}: ${arg} contains NaN or Infinity`;
        expect(() => call(poisoned, true)).toThrow(message);
        expect(() => call(poisoned, undefined)).toThrow(message);
        const unchecked = call(poisoned, false);
        const values = Array.from(unchecked.dataSync());
        unchecked.dispose();
        expect(values.some((value) => Number.isNaN(value))).toBe(true);
      } finally {
        disposeInputs(poisoned);
      }
    });

    it(`${fn}: rejects an invalid checkValues naming the function`, () => {
      const inputs = makeInputs(false);
      const owner = fn.split('.')[0] as string;
      try {
        expect(() => call(inputs, 'lazy' as never)).toThrow(
          `${owner}: checkValues must be true, false, 'auto' or 'deferred', got "lazy"`,
        );
        expect(() => call(inputs, 1 as never)).toThrow(
          `${owner}: checkValues must be true, false, 'auto' or 'deferred', got 1`,
        );
      } finally {
        disposeInputs(inputs);
      }
    });
  }

  it('CentroidTracker.update: checkValues true throws on NaN logits, false accumulates them', () => {
    const poisoned = makeInputs(true);
    const checked = new CentroidTracker({ numClasses: 3, checkValues: true });
    const unchecked = new CentroidTracker({ numClasses: 3, checkValues: false });
    try {
      expect(() => checked.update(poisoned.matrix, poisoned.labels)).toThrow(
        'CentroidTracker.update: logits contains NaN or Infinity',
      );
      unchecked.update(poisoned.matrix, poisoned.labels);
      const centroids = unchecked.centroids();
      const rows = Array.from(centroids.dataSync());
      centroids.dispose();
      // Class 0 (rows 0 and 3) holds the NaN: its sum is not > 0, so the row falls back to uniform.
      expect(rows.slice(0, 3)).toEqual([1 / 3, 1 / 3, 1 / 3].map((value) => Math.fround(value)));
      // Class 1 is row 1 alone: softmax([1, 0.25, -0.5]).
      const exps = [1, 0.25, -0.5].map(Math.exp);
      const total = exps.reduce((a, b) => a + b, 0);
      rows.slice(3, 6).forEach((value, index) => expect(value).toBeCloseTo((exps[index] as number) / total, 6));
      expect(() => new CentroidTracker({ numClasses: 3, checkValues: 'lazy' as never })).toThrow(
        `CentroidTracker: checkValues must be true, false, 'auto' or 'deferred', got "lazy"`,
      );
    } finally {
      checked.dispose();
      unchecked.dispose();
      disposeInputs(poisoned);
    }
  });

  it('checkValues: false makes no device read at all', () => {
    const inputs = makeInputs(false);
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const data = vi.spyOn(tf.Tensor.prototype, 'data');
    try {
      const loss = kdLoss(inputs.matrix, inputs.cleanMatrix, { checkValues: false });
      const ce = crossEntropy(inputs.matrix, inputs.labels, { checkValues: false });
      expect(dataSync).not.toHaveBeenCalled();
      expect(data).not.toHaveBeenCalled();
      tf.dispose([loss, ce]);
    } finally {
      disposeInputs(inputs);
    }
  });

  it('a misspelt checkValues key is rejected with a did-you-mean, also by functions that had no options', () => {
    const inputs = makeInputs(false);
    try {
      expect(() => kdLoss(inputs.matrix, inputs.cleanMatrix, { checkValue: false } as never)).toThrow(
        "kdLoss: unknown option 'checkValue', did you mean 'checkValues'?",
      );
      expect(() => crossEntropy(inputs.matrix, inputs.labels, { checkValue: false } as never)).toThrow(
        "crossEntropy: unknown option 'checkValue', did you mean 'checkValues'?",
      );
      expect(() => new VidRegularizer({ studentChannels: 3, teacherChannels: 3, checkValue: false } as never)).toThrow(
        "VidRegularizer: unknown option 'checkValue', did you mean 'checkValues'?",
      );
    } finally {
      disposeInputs(inputs);
    }
  });

  it('checkValues is not part of a regularizer config (it is how the instance checks, not what it computes)', () => {
    const vid = new VidRegularizer({ studentChannels: 3, teacherChannels: 3, seed: 7, checkValues: false });
    try {
      expect(vid.getConfig()).toEqual({
        studentChannels: 3,
        teacherChannels: 3,
        hiddenChannels: 3,
        initialVariance: 5,
        epsilon: 1e-5,
        seed: 7,
      });
    } finally {
      vid.dispose();
    }
  });

  it("a GPU-like backend: 'auto' defers (no synchronous read), true throws synchronously", async () => {
    await onRenamedCpuBackend('kd-test-device', async () => {
      expect(valueCheckTiming()).toBe('deferred');
      const student = tf.tensor2d([
        [1, Number.NaN],
        [0, 1],
      ]);
      const teacher = tf.tensor2d([
        [1, 0],
        [0, 1],
      ]);
      try {
        expect(() => kdLoss(student, teacher, { checkValues: true })).toThrow(
          'kdLoss: studentLogits contains NaN or Infinity',
        );
        const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
        const loss = kdLoss(student, teacher);
        expect(dataSync).not.toHaveBeenCalled();
        dataSync.mockRestore();
        loss.dispose();
        await expect(flushValueChecks()).rejects.toThrow(
          'kdLoss: studentLogits contains NaN or Infinity (found by a deferred value check',
        );
      } finally {
        tf.dispose([student, teacher]);
      }
    });
  });

  it('deferred: kdLoss makes no synchronous read, and the NaN is reported by flushValueChecks', async () => {
    const student = tf.tensor2d([
      [1, Number.NaN],
      [0, 1],
    ]);
    const teacher = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const loss = kdLoss(student, teacher, { temperature: 2, checkValues: 'deferred' });
    expect(dataSync).not.toHaveBeenCalled();
    dataSync.mockRestore();
    // The caller may dispose its inputs before the deferred read completes.
    tf.dispose([loss, student, teacher]);
    await expect(flushValueChecks()).rejects.toThrow(
      'kdLoss: studentLogits contains NaN or Infinity (found by a deferred value check',
    );
    // Reported once: the next flush is clean.
    await expect(flushValueChecks()).resolves.toBeUndefined();
  });

  it('deferred: a failure is thrown by the next checked call, not by an unchecked one', async () => {
    const logits = tf.tensor2d([
      [2, 1, 0],
      [0, 1, 2],
    ]);
    const badLabels = tf.tensor1d([0, 3], 'int32');
    const goodLabels = tf.tensor1d([0, 2], 'int32');
    try {
      tf.dispose(crossEntropy(logits, badLabels, { checkValues: 'deferred' }));
      // Let the read-back complete without flushing.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // A call with checks off (a training loop's) neither reads nor picks up another call's failure.
      const unchecked = crossEntropy(logits, goodLabels, { checkValues: false });
      // -mean(log softmax): rows [2,1,0] label 0 and [0,1,2] label 2 have the same value.
      const expected = -(2 - Math.log(Math.exp(2) + Math.exp(1) + 1));
      expect(unchecked.dataSync()[0]).toBeCloseTo(expected, 5);
      unchecked.dispose();
      expect(() => crossEntropy(logits, goodLabels, { checkValues: 'deferred' })).toThrow(
        'crossEntropy: labels[1] = 3 is out of range [0, 3)',
      );
      const loss = crossEntropy(logits, goodLabels, { checkValues: 'deferred' });
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
      loss.dispose();
    } finally {
      tf.dispose([logits, badLabels, goodLabels]);
    }
  });

  it('deferred: good input passes and every kept tensor is released', async () => {
    const logits = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const centroids = tf.tensor2d([
      [0.8, 0.1, 0.1],
      [0.2, 0.6, 0.2],
      [0.1, 0.1, 0.8],
    ]);
    const before = tf.memory().numTensors;
    const cmi = conditionalMutualInformation(logits, labels, { numClasses: 3, centroids, checkValues: 'deferred' });
    // One pending tensor per check (logits finite, labels, centroids finite / non-negative / row sums).
    expect(tf.memory().numTensors - before).toBe(1 + 5);
    await flushValueChecks();
    expect(tf.memory().numTensors - before).toBe(1);
    tf.dispose([cmi, logits, labels, centroids]);
  });

  it('synchronous (cpu default): the call itself throws', () => {
    const student = tf.tensor2d([[1, Number.POSITIVE_INFINITY]]);
    const teacher = tf.tensor2d([[1, 0]]);
    try {
      expect(() => kdLoss(student, teacher)).toThrow('kdLoss: studentLogits contains NaN or Infinity');
    } finally {
      tf.dispose([student, teacher]);
    }
  });
});
