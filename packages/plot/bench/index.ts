/**
 * Benchmarks for @kd/plot (run: `pnpm bench` in packages/plot): PNG encoding and decoding of a grid-sized image
 * and rendering of a training-curve plot, in plain JS (no tensors involved).
 */
import { decodePng, encodePng, renderLinePlot } from '../src/index';

function time(label: string, repeats: number, run: () => void): number {
  run(); // warm-up
  const start = performance.now();
  for (let index = 0; index < repeats; index++) run();
  const milliseconds = (performance.now() - start) / repeats;
  console.log(`${label.padEnd(40)} ${milliseconds.toFixed(3).padStart(10)} ms`);
  return milliseconds;
}

const grid = { width: 512, height: 512, channels: 3 as const, data: new Uint8Array(512 * 512 * 3) };
for (let index = 0; index < grid.data.length; index++) grid.data[index] = (index * 7 + (index >> 9)) & 255;
const encodeMs = time('encodePng 512×512 RGB', 3, () => encodePng(grid));
console.log(`   ${((512 * 512) / encodeMs / 1000).toFixed(2)} Mpixel/s`);
const bytes = encodePng(grid);
const decodeMs = time('decodePng 512×512 RGB', 3, () => decodePng(bytes));
console.log(`   ${((512 * 512) / decodeMs / 1000).toFixed(2)} Mpixel/s`);
const points = Array.from({ length: 240 }, (_, epoch) => [epoch + 1, 2.3 * Math.exp(-epoch / 60)] as const);
time('renderLinePlot 640×400, 240 epochs', 10, () => renderLinePlot({ series: [{ name: 'loss', points }] }));
