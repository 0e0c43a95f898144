import { it } from 'vitest';
import { describeWasmVsCpu, expectKernelMatchesCpu, randomHost } from '../test/helpers';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  input: [number, number, number, number];
  filter: [number, number];
  outChannels: number;
  strides: number | [number, number];
  pad: Pad;
}

const explicit: Pad = [
  [0, 0],
  [1, 2],
  [0, 1],
  [0, 0],
];
const cases: Case[] = [];
for (const input of [
  [2, 7, 7, 3],
  [2, 8, 8, 4],
  [1, 9, 6, 5],
] as Array<[number, number, number, number]>) {
  for (const filter of [
    [1, 1],
    [3, 3],
    [2, 3],
  ] as Array<[number, number]>) {
    for (const strides of [1, 2, [2, 1], 3] as Array<number | [number, number]>) {
      for (const pad of ['same', 'valid', 1, explicit] as Pad[]) {
        // tfjs sizes numeric pads from the filter height and the row stride only: keep those cases square.
        if (typeof pad === 'number' && (filter[0] !== filter[1] || Array.isArray(strides))) continue;
        cases.push({ input, filter, outChannels: 4, strides, pad });
      }
    }
  }
}

function describeCase(c: Case): string {
  return `x[${c.input}] k${c.filter.join('x')} s${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`;
}

function outputShape(c: Case): [number, number, number, number] {
  const [batch, height, width] = c.input;
  const strides = typeof c.strides === 'number' ? [c.strides, c.strides] : c.strides;
  const padPair = (axis: 0 | 1): [number, number] => {
    if (typeof c.pad === 'number') return [c.pad, c.pad];
    if (Array.isArray(c.pad)) return c.pad[axis + 1] as [number, number];
    return [0, 0];
  };
  const size = (extent: number, kernel: number, stride: number, axis: 0 | 1): number => {
    if (c.pad === 'same') return Math.ceil(extent / stride);
    if (c.pad === 'valid') return Math.ceil((extent - kernel + 1) / stride);
    const [before, after] = padPair(axis);
    return Math.floor((extent + before + after - kernel) / stride) + 1;
  };
  return [
    batch,
    size(height, c.filter[0], strides[0] as number, 0),
    size(width, c.filter[1], strides[1] as number, 1),
    c.outChannels,
  ];
}

describeWasmVsCpu('Conv2DBackpropFilter / Conv2DBackpropInput: wasm equals cpu', () => {
  it(`Conv2DBackpropFilter on ${cases.length} geometries`, async () => {
    let seed = 1;
    for (const c of cases) {
      const dyShape = outputShape(c);
      if (dyShape[1] < 1 || dyShape[2] < 1) continue;
      const filterShape = [c.filter[0], c.filter[1], c.input[3], c.outChannels];
      const rounding = typeof c.pad === 'number' ? { dimRoundingMode: 'floor' } : {};
      try {
        await expectKernelMatchesCpu(
          'Conv2DBackpropFilter',
          { x: randomHost(c.input, seed++), dy: randomHost(dyShape, seed++) },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', ...rounding, filterShape },
        );
      } catch (error) {
        throw new Error(`${describeCase(c)}: ${(error as Error).message}`);
      }
    }
  });

  it(`Conv2DBackpropInput on ${cases.length} geometries`, async () => {
    let seed = 1000;
    for (const c of cases) {
      const dyShape = outputShape(c);
      if (dyShape[1] < 1 || dyShape[2] < 1) continue;
      const filterShape = [c.filter[0], c.filter[1], c.input[3], c.outChannels];
      const rounding = typeof c.pad === 'number' ? { dimRoundingMode: 'floor' } : {};
      try {
        await expectKernelMatchesCpu(
          'Conv2DBackpropInput',
          { dy: randomHost(dyShape, seed++), filter: randomHost(filterShape, seed++) },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', ...rounding, inputShape: c.input },
        );
      } catch (error) {
        throw new Error(`${describeCase(c)}: ${(error as Error).message}`);
      }
    }
  });
});
