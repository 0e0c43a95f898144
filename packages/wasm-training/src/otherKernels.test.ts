import { expect, it } from 'vitest';
import { describeWasmVsCpu, expectKernelMatchesCpu, randomHost, runKernelOn } from '../test/helpers';

describeWasmVsCpu('BatchMatMul / UnsortedSegmentSum: wasm equals cpu', () => {
  it('BatchMatMul with every transpose combination, rank 2 and rank 3 with a unit batch, odd sizes', async () => {
    let seed = 1;
    for (const [m, k, n] of [
      [5, 7, 3],
      [1, 9, 4],
      [33, 17, 1],
    ] as Array<[number, number, number]>) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          for (const batch of [[], [1]] as number[][]) {
            const a = randomHost([...batch, ...(transposeA ? [k, m] : [m, k])], seed++);
            const b = randomHost([...batch, ...(transposeB ? [n, k] : [k, n])], seed++);
            await expectKernelMatchesCpu('BatchMatMul', { a, b }, { transposeA, transposeB });
          }
        }
      }
    }
    // A real batch goes to the stock kernel.
    await expectKernelMatchesCpu(
      'BatchMatMul',
      { a: randomHost([3, 4, 5], 90), b: randomHost([3, 6, 5], 91) },
      {
        transposeA: false,
        transposeB: true,
      },
    );
  });

  it('UnsortedSegmentSum adds rows with equal ids, drops ids outside [0, numSegments)', async () => {
    const x = randomHost([6, 3], 5);
    const ids = { values: Int32Array.from([2, 0, 2, 5, -1, 0]), shape: [6], dtype: 'int32' as const };
    await expectKernelMatchesCpu('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 4 });
    const wasm = await runKernelOn('wasm', 'UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 4 });
    // Hand computation: segment 0 = rows 1 + 5, segment 2 = rows 0 + 2, segments 1 and 3 empty.
    const row = (index: number, column: number) => x.values[index * 3 + column] as number;
    const expected = [0, 1, 2].map((c) => row(1, c) + row(5, c));
    expected.push(0, 0, 0, ...[0, 1, 2].map((c) => row(0, c) + row(2, c)), 0, 0, 0);
    for (let index = 0; index < expected.length; index++) {
      expect(wasm.values[index]).toBeCloseTo(expected[index] as number, 5);
    }
    await expectKernelMatchesCpu(
      'UnsortedSegmentSum',
      {
        x: randomHost([4, 2, 3], 6),
        segmentIds: { values: Int32Array.from([1, 1, 0, 1]), shape: [4], dtype: 'int32' },
      },
      { numSegments: 2 },
    );
  });
});
