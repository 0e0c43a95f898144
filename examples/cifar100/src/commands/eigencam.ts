import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { camOverlay, eigenCam } from '@kd/cam';
import { heatMapsFromTensor, renderGrid, type RasterImage } from '@kd/plot';
import { writePng } from '@kd/plot/node';
import { normalizeImages, type Dataset } from '@kd/data';
import type { KdModel } from '@kd/models';
import { directoryStore } from '@kd/trainer/node';
import type { RunConfig } from '../cli';
import { loadSourceTestSet } from '../datasets';
import { isFinished, loadRunModel, resolveRunDirectory, RUN_RECORD_FILE } from '../runs';
import { mcmiRunName, studentRunName, teacherRunName, type CommandContext, type CommandOutcome } from './shared';

export const EIGENCAM_FILE = 'eigencam.png';
/** Each 32×32 picture is enlarged this many times (nearest neighbour) so the maps are readable. */
const MAGNIFICATION = 4;

function enlarge(image: RasterImage, factor: number): RasterImage {
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8Array(width * height * image.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / factor) * image.width + Math.floor(x / factor)) * image.channels;
      data.set(image.data.subarray(from, from + image.channels), (y * width + x) * image.channels);
    }
  }
  return { width, height, channels: image.channels, data };
}

/** Test image `index` as an 8-bit picture (the raw pixels, before normalisation). */
function pictureOf(dataset: Dataset, index: number): RasterImage {
  const size = dataset.height * dataset.width * dataset.channels;
  const data = dataset.images.slice(index * size, (index + 1) * size);
  return enlarge(
    { width: dataset.width, height: dataset.height, channels: dataset.channels as 1 | 3 | 4, data },
    MAGNIFICATION,
  );
}

/** Eigen-CAM of the last convolutional stage (`features[-2]`, before pooling) overlaid on each picture. */
function overlays(model: KdModel, input: tf.Tensor4D, pictures: RasterImage[]): RasterImage[] {
  const maps = tf.tidy(() => {
    const { features } = model.apply(input, { training: false });
    return eigenCam(features[features.length - 2] as tf.Tensor4D);
  });
  const heat = heatMapsFromTensor(maps);
  maps.dispose();
  return heat.map((map, index) => camOverlay(pictures[index] as RasterImage, map, { colorMap: 'jet', alpha: 0.5 }));
}

/**
 * `eigencam`: one row per checkpoint (`--checkpoints`, default the preset's MLL teacher, MCMI teacher and KD
 * student), one column per test image (`--images`, the first N of the test set), written to
 * `<out-dir>/<run>/eigencam.png` with a run record.
 */
export async function eigencamCommand(config: RunConfig, { log }: CommandContext): Promise<CommandOutcome> {
  const runDirectory = resolveRunDirectory(config.outDir, config.runName ?? `eigencam-${config.name}`);
  if (isFinished(runDirectory, { needsModel: false })) {
    log(`${basename(runDirectory)}: already finished (${join(runDirectory, EIGENCAM_FILE)}), skipping`);
    return { runDirectory, skipped: true };
  }
  const references = config.checkpoints ?? [
    teacherRunName(config),
    mcmiRunName(config),
    studentRunName(config, 'distill'),
  ];
  const { test, normalization } = await loadSourceTestSet({ ...config, limitTest: config.images });
  const count = Math.min(config.images, test.labels.length);
  const startedAt = new Date().toISOString();
  const pictures = Array.from({ length: count }, (_, index) => pictureOf(test, index));
  const size = test.height * test.width * test.channels;
  const input = tf.tensor4d(
    normalizeImages({ images: test.images.subarray(0, count * size), channels: test.channels, normalization }),
    [count, test.height, test.width, test.channels],
  );
  const rows: { label: string; images: RasterImage[] }[] = [];
  try {
    for (const reference of references) {
      const directory = resolveRunDirectory(config.outDir, reference);
      const model = loadRunModel(
        directory,
        'eigencam',
        'Pass --checkpoints with runs that have finished (each holds model/model.json).',
      );
      try {
        rows.push({ label: basename(directory), images: overlays(model, input, pictures) });
      } finally {
        model.dispose();
      }
    }
  } finally {
    input.dispose();
  }
  const columnLabels = Array.from({ length: count }, (_, index) =>
    (test.classNames[test.labels[index] as number] ?? '').slice(0, 12),
  );
  const grid = renderGrid({ title: `Eigen-CAM, last stage (${config.dataset} test images)`, rows, columnLabels });
  await mkdir(runDirectory, { recursive: true });
  await writePng(join(runDirectory, EIGENCAM_FILE), grid);
  const store = directoryStore(runDirectory);
  const record = {
    functionName: 'eigencam',
    status: 'finished',
    backend: tf.getBackend(),
    tfjsVersion: tf.version_core,
    startedAt,
    finishedAt: new Date().toISOString(),
    config: {
      dataset: config.dataset,
      images: count,
      checkpoints: references.map((reference) => resolveRunDirectory(config.outDir, reference)),
    },
    output: EIGENCAM_FILE,
  };
  await store.writeAtomic(RUN_RECORD_FILE, `${JSON.stringify(record, null, 2)}\n`);
  log(`eigencam: ${rows.length} checkpoints × ${count} images → ${join(runDirectory, EIGENCAM_FILE)}`);
  return { runDirectory, skipped: false };
}
