/**
 * The 4-class synthetic image problem of the trainer's tests. No vitest import, so child processes (the
 * fault-injection runs) and the bench can load it.
 */
import { createDataset, type Dataset } from '@kd/data';
import { seededRandom } from './tiny-model';

/**
 * 4 classes of 8×8 grey textures over noise: horizontal stripes, vertical stripes, a checkerboard and diagonal
 * stripes, each with a random phase and contrast, so a conv net with global pooling solves it in a few epochs.
 */
export function syntheticDataset({
  count,
  seed,
  size = 8,
  numClasses = 4,
  noise = 40,
}: {
  count: number;
  seed: number;
  size?: number;
  numClasses?: number;
  /** Amplitude of the uniform pixel noise (the texture's contrast is 90–170): larger is harder. */
  noise?: number;
}): Dataset {
  const random = seededRandom(seed);
  const images = new Uint8Array(count * size * size);
  const labels = new Int32Array(count);
  const patterns = [
    (y: number, _x: number) => y % 2,
    (_y: number, x: number) => x % 2,
    (y: number, x: number) => (x + y) % 2,
    (y: number, x: number) => Math.floor((x + y) / 2) % 2,
  ];
  for (let sample = 0; sample < count; sample++) {
    const label = sample % numClasses;
    labels[sample] = label;
    const pattern = patterns[label % patterns.length]!;
    const phase = random() < 0.5 ? 0 : 1;
    const contrast = 90 + 80 * random();
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = (pattern(y + phase, x) + (label >= patterns.length ? 1 : 0)) % 2;
        images[sample * size * size + y * size + x] = Math.min(255, Math.round(noise * random() + on * contrast));
      }
    }
  }
  return createDataset({
    images,
    labels,
    height: size,
    width: size,
    channels: 1,
    classNames: Array.from({ length: numClasses }, (_, index) => `class${index}`),
  });
}
