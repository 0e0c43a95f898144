/**
 * The training worker: starts the backend, runs (or resumes) one playground run, reports every step and
 * epoch to the page and keeps the run record in IndexedDB. Pause holds the run between two steps; stop
 * aborts it between two steps (its checkpoints stay, so it can be resumed later).
 */
import { TrainingAbortedError, indexedDbStore } from '@kd/trainer';
import trainImagesUrl from '../../quickstart/data/train-images-idx3-ubyte.gz?url';
import trainLabelsUrl from '../../quickstart/data/train-labels-idx1-ubyte.gz?url';
import testImagesUrl from '../../quickstart/data/t10k-images-idx3-ubyte.gz?url';
import testLabelsUrl from '../../quickstart/data/t10k-labels-idx1-ubyte.gz?url';
import { startBackend } from './backend';
import { runPipeline, type BundledFiles } from './pipeline';
import { DATABASE_NAME, runFiles, type EpochEntry, type FromWorker, type RunRecord, type ToWorker } from './protocol';

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(message, transfer);

let paused: { promise: Promise<void>; resume: () => void } | undefined;
const controller = new AbortController();
let started = false;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function loadFiles(): Promise<BundledFiles> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    [trainImagesUrl, trainLabelsUrl, testImagesUrl, testLabelsUrl].map(fetchBytes),
  );
  return { trainImages, trainLabels, testImages, testLabels } as BundledFiles;
}

/** Replaces the entry of the same stage and epoch (an epoch redone after a reload reports again). */
function upsert(epochs: EpochEntry[], entry: EpochEntry): void {
  const index = epochs.findIndex((each) => each.stage === entry.stage && each.epoch === entry.epoch);
  if (index === -1) epochs.push(entry);
  else epochs[index] = entry;
}

async function run(record: RunRecord): Promise<void> {
  const store = indexedDbStore(DATABASE_NAME);
  const save = async (changes: Partial<RunRecord>) => {
    Object.assign(record, changes, { updatedAt: new Date().toISOString() });
    await store.writeAtomic(runFiles.record(record.runId), JSON.stringify(record));
  };
  try {
    const backend = await startBackend(record.backendChoice);
    post({ type: 'backend', ...backend });
    await save({ status: 'running', backend: backend.backend, threads: backend.threads });
    const files = await loadFiles();
    const result = await runPipeline({
      runId: record.runId,
      config: record.config,
      files,
      store,
      signal: controller.signal,
      hooks: {
        onStage: (stage) => post({ type: 'stage', stage }),
        onStep: async (stage, info) => {
          post({
            type: 'step',
            stage,
            epoch: info.epoch,
            epochs: info.epochs,
            step: info.step,
            stepsPerEpoch: info.stepsPerEpoch,
            imagesPerSecond: info.imagesPerSecond,
          });
          if (paused !== undefined) await paused.promise;
        },
        onEpoch: async (entry) => {
          upsert(record.epochs, entry);
          await save({});
          post({ type: 'epoch', entry });
        },
        onCam: (image) => {
          const rgba = new Uint8ClampedArray(image.width * image.height * 4);
          for (let pixel = 0; pixel < image.width * image.height; pixel++) {
            for (let channel = 0; channel < 4; channel++) {
              rgba[4 * pixel + channel] =
                channel === 3 && image.channels !== 4
                  ? 255
                  : (image.data[pixel * image.channels + Math.min(channel, image.channels - 1)] as number);
            }
          }
          post({ type: 'cam', width: image.width, height: image.height, rgba }, [rgba.buffer]);
        },
      },
    });
    await save({ status: 'finished', result });
    post({ type: 'finished', result });
  } catch (error) {
    if (error instanceof TrainingAbortedError) {
      await save({ status: 'stopped' });
      post({ type: 'stopped' });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(error);
    await save({ status: 'failed', error: message }).catch(() => undefined);
    post({ type: 'failed', message });
  } finally {
    store.close();
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'start') {
    if (started) throw new Error('worker: a run is already going; start a new worker for another one');
    started = true;
    void run(message.record);
  } else if (message.type === 'pause') {
    if (paused === undefined) {
      let resume: () => void = () => {};
      const promise = new Promise<void>((resolve) => {
        resume = () => resolve();
      });
      paused = { promise, resume };
    }
    post({ type: 'paused' });
  } else if (message.type === 'continue') {
    paused?.resume();
    paused = undefined;
    post({ type: 'continued' });
  } else {
    controller.abort();
    paused?.resume();
    paused = undefined;
  }
};
