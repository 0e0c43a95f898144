import { describeWithBackends, expectThrowsWith, type tf } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { VidLpRegularizer } from './vid-lp-regularizer';
import { VidRegularizer } from './vid-regularizer';

describeWithBackends('RegularizerBase weights (via VidLpRegularizer)', () => {
  it('names variables uniquely per instance and saves them under instance-independent names', async () => {
    const a = new VidLpRegularizer({ studentDim: 2, teacherDim: 3, seed: 1 });
    const b = new VidLpRegularizer({ studentDim: 2, teacherDim: 3, seed: 1 });
    const namesA = a.trainableVariables.map((variable) => variable.name);
    const namesB = b.trainableVariables.map((variable) => variable.name);
    expect(namesA.every((name) => name.startsWith(`${a.name}/`))).toBe(true);
    expect(namesA.some((name) => namesB.includes(name))).toBe(false);
    expect(a.weightNames).toEqual(['mean/kernel', 'mean/bias', 'alpha']);
    expect(a.nonTrainableVariables).toEqual([]);
    const { specs, data } = await a.saveWeights();
    expect(specs.map((spec) => [spec.name, spec.shape, spec.dtype])).toEqual([
      ['mean/kernel', [2, 3], 'float32'],
      ['mean/bias', [3], 'float32'],
      ['alpha', [3], 'float32'],
    ]);
    expect(data.byteLength).toBe(4 * (6 + 3 + 3));
    a.dispose();
    b.dispose();
  });

  it('rejects missing, unexpected, duplicated, mistyped, reshaped, truncated and malformed artifacts', async () => {
    const lp = new VidLpRegularizer({ studentDim: 2, teacherDim: 3, seed: 1 });
    const { specs, data } = await lp.saveWeights();
    const fn = 'VidLpRegularizer.loadWeights';
    expectThrowsWith(
      () => lp.loadWeights({ specs: specs.slice(0, 2), data: data.slice(0, 36) }),
      fn,
      'missing weights: alpha',
    );
    expectThrowsWith(
      () => lp.loadWeights({ specs: [...specs, { name: 'extra', shape: [1], dtype: 'float32' }], data }),
      fn,
      "unexpected weight 'extra'",
    );
    expectThrowsWith(
      () => lp.loadWeights({ specs: [...specs, specs[2] as tf.io.WeightsManifestEntry], data }),
      fn,
      "'alpha' appears twice",
    );
    const retyped = specs.map((spec) => (spec.name === 'alpha' ? { ...spec, dtype: 'int32' as const } : spec));
    expectThrowsWith(() => lp.loadWeights({ specs: retyped, data }), fn, "'alpha'", 'dtype int32', 'expected float32');
    const reshaped = specs.map((spec) => (spec.name === 'mean/kernel' ? { ...spec, shape: [3, 2] } : spec));
    expectThrowsWith(
      () => lp.loadWeights({ specs: reshaped, data }),
      fn,
      "'mean/kernel'",
      'shape [3,2]',
      'expected [2,3]',
    );
    expectThrowsWith(() => lp.loadWeights({ specs, data: data.slice(0, data.byteLength - 4) }), fn, 'truncated');
    // Non-finite values in any weight, at any position (the last value of the last weight too).
    const values = new Float32Array(data.slice(0));
    for (const [position, bad] of [
      [0, Number.NaN],
      [3, Number.POSITIVE_INFINITY],
      [values.length - 1, Number.NEGATIVE_INFINITY],
    ] as const) {
      const poisoned = values.slice();
      poisoned[position] = bad;
      expectThrowsWith(
        () => lp.loadWeights({ specs, data: poisoned.buffer }),
        fn,
        `holds ${bad}`,
        'weights must be finite',
      );
    }
    expectThrowsWith(() => lp.loadWeights(null as never), fn, 'artifacts');
    expectThrowsWith(() => lp.loadWeights({ specs, data: new Float32Array(12) as never }), fn, 'ArrayBuffer');
    const other = new VidRegularizer({ studentChannels: 2, teacherChannels: 3, seed: 1 });
    expectThrowsWith(
      () => other.loadWeights({ specs, data }),
      'VidRegularizer.loadWeights',
      "unexpected weight 'mean/kernel'",
    );
    lp.dispose();
    other.dispose();
    expectThrowsWith(() => lp.loadWeights({ specs, data }), fn, 'disposed');
  });

  it('leaves the weights untouched when an artifact is rejected', async () => {
    const lp = new VidLpRegularizer({ studentDim: 2, teacherDim: 3, seed: 1 });
    const before = lp.trainableVariables.map((variable) => Array.from(variable.dataSync()));
    const donor = new VidLpRegularizer({ studentDim: 2, teacherDim: 3, seed: 9 });
    const { specs, data } = await donor.saveWeights();
    donor.dispose();
    expectThrowsWith(() => lp.loadWeights({ specs, data: data.slice(0, 8) }), 'truncated');
    expect(lp.trainableVariables.map((variable) => Array.from(variable.dataSync()))).toEqual(before);
    lp.dispose();
  });
});
