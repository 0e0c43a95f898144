/**
 * Augmentation on worker threads. The dataset's pixels are copied once into a SharedArrayBuffer that every
 * worker reads; each job (rows + random choices, drawn on the main thread so results do not depend on which
 * worker runs it) comes back as a transferred Float32Array, without a copy.
 */
import { assertKnownOptions } from '@kd/internal';
import { Worker } from 'node:worker_threads';
import { augmentBatchKernel } from '../augment';
import type { Dataset } from '../dataset';
import { assertDataset } from '../dataset';
import type { AugmentJob } from '../augment';
import type { BatchProducer, Loader, LoaderOptions } from '../loader';
import { LOADER_OPTION_KEYS, createLoader } from '../loader';
import { assertNumber } from '../validate';

// The worker runs the very function the main thread uses, sent as source text (it is self-contained).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const augmentBatchKernel = (${augmentBatchKernel.toString()});
const source = {
  images: new Uint8Array(workerData.images),
  height: workerData.height,
  width: workerData.width,
  channels: workerData.channels,
};
parentPort.on('message', (job) => {
  try {
    const out = new Float32Array(job.rows.length * workerData.height * workerData.width * workerData.channels);
    augmentBatchKernel({ source, job, out });
    parentPort.postMessage({ id: job.id, out }, [out.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String(error && error.stack || error) });
  }
});
`;

export interface WorkerProducer extends BatchProducer {
  /** Number of worker threads. */
  readonly workers: number;
  /** Terminates the workers; pending jobs reject. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (out: Float32Array) => void;
  reject: (error: Error) => void;
}

/**
 * Starts `workers` threads that run augmentation jobs for `dataset`. Pass it as `producer` to `createLoader`, or
 * use {@link createParallelLoader}. Workers are unreferenced while idle, so a forgotten `close()` does not keep
 * the process alive.
 *
 * @example
 * const producer = createWorkerProducer({ dataset: train, workers: 2 });
 * const loader = createLoader(train, { batchSize: 64, shuffle: true, augment: CIFAR_AUGMENTATION, producer });
 * // ...
 * await producer.close();
 */
export function createWorkerProducer(options: { dataset: Dataset; workers: number }): WorkerProducer {
  assertKnownOptions('createWorkerProducer', options, ['dataset', 'workers']);
  const { dataset, workers } = options;
  const fn = 'createWorkerProducer';
  assertDataset(fn, 'dataset', dataset);
  const count = assertNumber(fn, 'workers', workers, { integer: true, positive: true, max: 64 });
  const shared = new SharedArrayBuffer(dataset.images.length);
  new Uint8Array(shared).set(dataset.images);
  const workerData = { images: shared, height: dataset.height, width: dataset.width, channels: dataset.channels };
  const threads = Array.from({ length: count }, () => {
    const worker = new Worker(workerSource, { eval: true, workerData });
    worker.unref();
    return { worker, pending: new Map<number, Pending>() };
  });
  let nextId = 0;
  let closed = false;
  for (const thread of threads) {
    thread.worker.on('message', (message: { id: number; out?: Float32Array; error?: string }) => {
      const job = thread.pending.get(message.id);
      if (!job) return;
      thread.pending.delete(message.id);
      if (thread.pending.size === 0) thread.worker.unref();
      if (message.error !== undefined) job.reject(new Error(`${fn}: a worker failed: ${message.error}`));
      else job.resolve(message.out!);
    });
    const failAll = (error: Error) => {
      for (const job of thread.pending.values()) job.reject(error);
      thread.pending.clear();
    };
    thread.worker.on('error', (error) => failAll(new Error(`${fn}: a worker crashed: ${error.message}`)));
    thread.worker.on('exit', (code) =>
      failAll(new Error(`${fn}: a worker exited (code ${code})${closed ? ' because the producer was closed' : ''}`)),
    );
  }
  return {
    workers: count,
    run(job: AugmentJob): Promise<Float32Array> {
      if (closed) return Promise.reject(new Error(`${fn}: the producer is closed`));
      // Least-loaded worker; ties go to the first.
      const thread = threads.reduce((best, candidate) =>
        candidate.pending.size < best.pending.size ? candidate : best,
      );
      const id = nextId++;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.ref();
        thread.worker.postMessage({ id, ...job });
      });
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}

/**
 * `createLoader` with augmentation on `workers` threads. Batches are identical to the single-threaded loader's
 * for the same options. Call `close()` when done.
 *
 * @example
 * const loader = createParallelLoader(train, { batchSize: 64, shuffle: true, seed: 1, workers: 2,
 *   augment: CIFAR_AUGMENTATION, normalize: CIFAR100_NORMALIZATION });
 * for await (const batch of loader.batches({ epoch: 0 })) { ...; batch.dispose(); }
 * await loader.close();
 */
export function createParallelLoader(
  dataset: Dataset,
  options: Omit<LoaderOptions, 'producer'> & { workers: number },
): Loader & { close(): Promise<void> } {
  assertKnownOptions('createParallelLoader', options, [
    ...LOADER_OPTION_KEYS.filter((key) => key !== 'producer'),
    'workers',
  ]);
  const { workers, ...loaderOptions } = options;
  assertDataset('createParallelLoader', 'dataset', dataset);
  const producer = createWorkerProducer({ dataset, workers });
  let loader: Loader;
  try {
    loader = createLoader(dataset, { prefetch: Math.max(2, 2 * workers), ...loaderOptions, producer });
  } catch (error) {
    void producer.close();
    throw error;
  }
  return Object.assign(loader, { close: () => producer.close() });
}
