import { it } from 'vitest';
import { expect } from 'vitest';
import {
  type HostTensor,
  describeWasmVsCpu,
  expectKernelMatchesCpu,
  randomHost,
  relativeError,
  runKernelOn,
  tf,
} from '../test/helpers';
import { depthwiseFilterGradient, depthwiseInputGradient } from '../test/reference';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  input: [number, number, number, number];
  filter: [number, number];
  multiplier: number;
  strides: number;
  dilations: number;
  pad: Pad;
}

const explicit: Pad = [
  [0, 0],
  [2, 1],
  [1, 0],
  [0, 0],
];
const cases: Case[] = [];
for (const input of [
  [2, 7, 7, 3],
  [1, 8, 6, 4],
] as Array<[number, number, number, number]>) {
  for (const filter of [
    [1, 1],
    [3, 3],
    [5, 3],
  ] as Array<[number, number]>) {
    for (const multiplier of [1, 2]) {
      // tfjs allows a stride or a dilation above 1, not both.
      for (const [strides, dilations] of [
        [1, 1],
        [2, 1],
        [3, 1],
        [1, 2],
      ] as Array<[number, number]>) {
        for (const pad of ['same', 'valid', 1, explicit] as Pad[]) {
          // tfjs sizes numeric pads from the filter height only: keep those cases square.
          if (typeof pad === 'number' && filter[0] !== filter[1]) continue;
          cases.push({ input, filter, multiplier, strides, dilations, pad });
        }
      }
    }
  }
}

function geometry(c: Case) {
  const filterShape: [number, number, number, number] = [c.filter[0], c.filter[1], c.input[3], c.multiplier];
  const dimRoundingMode = typeof c.pad === 'number' ? 'floor' : undefined;
  const info = tf.backend_util.computeConv2DInfo(
    c.input,
    filterShape,
    c.strides,
    c.dilations,
    c.pad,
    dimRoundingMode,
    true,
  );
  const loops = {
    strides: [info.strideHeight, info.strideWidth] as [number, number],
    dilations: [info.dilationHeight, info.dilationWidth] as [number, number],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  return { filterShape, dimRoundingMode, dyShape: info.outShape as number[], loops };
}

/**
 * Dilation 1: the cpu kernel is the reference. Dilation > 1: tfjs's cpu kernels ignore the dilation when
 * indexing taps, so a plain loop over the formula is.
 */
async function expectMatches(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
  loopReference: () => Float32Array,
  dilations: number,
): Promise<void> {
  if (dilations === 1) {
    await expectKernelMatchesCpu(kernelName, inputs, attrs);
  }
  const actual = await runKernelOn('wasm', kernelName, inputs, attrs);
  const error = relativeError(actual.values, loopReference());
  expect(error, `${kernelName} vs plain loops: relative error ${error}`).toBeLessThanOrEqual(1e-4);
}

const label = (c: Case): string =>
  `x[${c.input}] k${c.filter.join('x')} m${c.multiplier} s${c.strides} d${c.dilations} pad ${JSON.stringify(c.pad)}`;

describeWasmVsCpu('Depthwise conv gradients: wasm equals cpu', () => {
  it(`DepthwiseConv2dNativeBackpropFilter on ${cases.length} geometries`, async () => {
    let seed = 7;
    for (const c of cases) {
      const { filterShape, dimRoundingMode, dyShape, loops } = geometry(c);
      if ((dyShape[1] as number) < 1 || (dyShape[2] as number) < 1) continue;
      const x = randomHost(c.input, seed++);
      const dy = randomHost(dyShape, seed++);
      try {
        await expectMatches(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode, filterShape },
          () => depthwiseFilterGradient(x, dy, filterShape, loops),
          c.dilations,
        );
      } catch (error) {
        throw new Error(`${label(c)}: ${(error as Error).message}`);
      }
    }
  });

  it(`DepthwiseConv2dNativeBackpropInput on ${cases.length} geometries`, async () => {
    let seed = 70_000;
    for (const c of cases) {
      const { filterShape, dimRoundingMode, dyShape, loops } = geometry(c);
      if ((dyShape[1] as number) < 1 || (dyShape[2] as number) < 1) continue;
      const dy = randomHost(dyShape, seed++);
      const filter = randomHost(filterShape, seed++);
      try {
        await expectMatches(
          'DepthwiseConv2dNativeBackpropInput',
          { dy, filter },
          { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode, inputShape: c.input },
          () => depthwiseInputGradient(dy, filter, c.input, loops),
          c.dilations,
        );
      } catch (error) {
        throw new Error(`${label(c)}: ${(error as Error).message}`);
      }
    }
  });
});
