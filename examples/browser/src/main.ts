/**
 * The playground page: controls, live charts, the Eigen-CAM grid, the result table, past runs. Training runs in
 * a Web Worker (worker.ts); runs live in IndexedDB, and a run the page was training when it closed is resumed
 * from its last checkpoint on the next load.
 *
 * URL: `?preset=smoke&backend=wasm&lambda=0.25&autostart=1` starts a run without clicks. Tests read
 * `window.kdPlayground`.
 */
import { decodePng, renderLinePlot, type LineSeries, type RasterImage } from '@kd/plot';
import { indexedDbStore } from '@kd/trainer';
import { chartData, pointCount } from './charts';
import { PRESETS, PRESET_NAMES, configFromQuery, presetConfig } from './presets';
import {
  BACKEND_CHOICES,
  DATABASE_NAME,
  STAGE_LABELS,
  runFiles,
  WEIGHTS_FILES,
  type BackendChoice,
  type EpochEntry,
  type FromWorker,
  type RunRecord,
  type RunResult,
} from './protocol';

type PlaygroundState = 'idle' | 'starting' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

/** What tests (and the curious) read from the page. */
interface PlaygroundView {
  state: PlaygroundState;
  runId: string | undefined;
  /** True when this page load picked up a run a previous load left unfinished. */
  resumed: boolean;
  backend: string | undefined;
  threads: number | undefined;
  imagesPerSecond: number | undefined;
  epochs: EpochEntry[];
  result: RunResult | undefined;
  error: string | undefined;
  crossOriginIsolated: boolean;
  /** Points drawn on each chart. */
  chartPoints: { loss: number; accuracy: number; cmi: number };
  camDrawn: boolean;
}

declare global {
  interface Window {
    kdPlayground: PlaygroundView;
  }
}

const view: PlaygroundView = {
  state: 'idle',
  runId: undefined,
  resumed: false,
  backend: undefined,
  threads: undefined,
  imagesPerSecond: undefined,
  epochs: [],
  result: undefined,
  error: undefined,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  chartPoints: { loss: 0, accuracy: 0, cmi: 0 },
  camDrawn: false,
};
window.kdPlayground = view;

const element = <T extends HTMLElement>(id: string) => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`playground: #${id} is missing from index.html`);
  return found as T;
};
const presetSelect = element<HTMLSelectElement>('preset');
const backendSelect = element<HTMLSelectElement>('backend');
const lambdaInput = element<HTMLInputElement>('lambda');
const lambdaValue = element<HTMLOutputElement>('lambda-value');
const startButton = element<HTMLButtonElement>('start');
const pauseButton = element<HTMLButtonElement>('pause');
const stopButton = element<HTMLButtonElement>('stop');

const store = indexedDbStore(DATABASE_NAME);
let worker: Worker | undefined;
let record: RunRecord | undefined;
let paused = false;

for (const name of PRESET_NAMES) presetSelect.add(new Option(PRESETS[name].label, name));
for (const name of BACKEND_CHOICES)
  backendSelect.add(new Option(name === 'auto' ? 'auto (fastest available)' : name, name));
const query = new URLSearchParams(location.search);
presetSelect.value = query.get('preset') ?? 'minute';
backendSelect.value = query.get('backend') ?? 'auto';
lambdaInput.value = query.get('lambda') ?? String(presetConfig('full').lambda);
const showLambda = () => (lambdaValue.textContent = Number(lambdaInput.value).toFixed(2));
lambdaInput.oninput = showLambda;
showLambda();

function setState(state: PlaygroundState): void {
  view.state = state;
  element('state').textContent = state;
  const active = state === 'running' || state === 'paused' || state === 'starting';
  startButton.disabled = active;
  pauseButton.disabled = !(state === 'running' || state === 'paused');
  stopButton.disabled = !active;
  pauseButton.textContent = state === 'paused' ? 'Continue' : 'Pause';
}

function draw(
  canvasId: string,
  series: LineSeries[],
  title: string,
  yLabel: string,
  yRange?: readonly [number, number],
): number {
  const canvas = element<HTMLCanvasElement>(canvasId);
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('playground: no 2D canvas context');
  if (series.length === 0) {
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#888';
    context.fillText(`${title}: no epoch finished yet`, 16, 24);
    return 0;
  }
  const image = renderLinePlot({
    series,
    width: canvas.width,
    height: canvas.height,
    title,
    xLabel: 'epoch (stages in order)',
    yLabel,
    ...(yRange === undefined ? {} : { yRange }),
  });
  putImage(canvas, image);
  return pointCount(series);
}

function putImage(canvas: HTMLCanvasElement, image: RasterImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let pixel = 0; pixel < image.width * image.height; pixel++) {
    for (let channel = 0; channel < 4; channel++) {
      rgba[4 * pixel + channel] =
        channel === 3 && image.channels !== 4
          ? 255
          : (image.data[pixel * image.channels + Math.min(channel, image.channels - 1)] as number);
    }
  }
  canvas.getContext('2d')?.putImageData(new ImageData(rgba, image.width, image.height), 0, 0);
}

function drawCharts(): void {
  if (record === undefined) return;
  const data = chartData(view.epochs, record.config);
  view.chartPoints = {
    loss: draw('chart-loss', data.loss, 'loss parts (mean per epoch)', 'loss'),
    accuracy: draw('chart-accuracy', data.accuracy, 'accuracy', 'top-1', [0, 1]),
    cmi: draw('chart-cmi', data.cmi, "teachers' CMI (training set)", 'nats'),
  };
}

const percent = (value: number) => (Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : '–');

function showResult(result: RunResult | undefined): void {
  const target = element('result');
  const exports = element('export');
  exports.replaceChildren();
  if (result === undefined || record === undefined) {
    target.textContent = '(after the run)';
    return;
  }
  const rows = result.rows
    .map(
      (row) =>
        `<tr><td>${row.teacher}</td><td>${percent(row.teacherAccuracy)}</td><td>${row.teacherCmi.toFixed(4)}</td><td>${percent(row.studentAccuracy)}</td><td>${percent(row.studentBestAccuracy)}</td></tr>`,
    )
    .join('');
  target.innerHTML =
    `<table id="result-table"><tr><th>teacher</th><th>teacher test acc.</th><th>teacher CMI (nats, train)</th><th>KD student test acc. (last)</th><th>(best)</th></tr>${rows}</table>` +
    `<p>teacher ${record.config.teacher} (${result.parameters.teacher.toLocaleString('en')} parameters), student ${record.config.student} (${result.parameters.student.toLocaleString('en')})</p>`;
  const runId = record.runId;
  for (const which of ['from-mll', 'from-mcmi'] as const) {
    for (const file of WEIGHTS_FILES) {
      const link = document.createElement('a');
      link.href = '#';
      link.textContent = `student ${which} ${file}`;
      link.onclick = async (event) => {
        event.preventDefault();
        const bytes = await store.read(runFiles.weights(runId, which, file));
        if (bytes === undefined) return showError(`the run ${runId} holds no ${file} for the student ${which}`);
        const url = URL.createObjectURL(
          new Blob([bytes.slice().buffer as ArrayBuffer], {
            type: file === 'model.json' ? 'application/json' : 'application/octet-stream',
          }),
        );
        const download = document.createElement('a');
        download.href = url;
        download.download = file;
        download.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      };
      exports.append(link);
    }
  }
  const note = document.createElement('p');
  note.textContent =
    "model.json + weights.bin in one folder load with loadWeightsFromDirectory from '@kd/models/node'; model.safetensors holds the same weights in PyTorch's layout (loadTorchCheckpoint).";
  exports.append(note);
}

function drawCam(image: RasterImage): void {
  putImage(element<HTMLCanvasElement>('cam'), image);
  view.camDrawn = true;
}

function showError(message: string | undefined): void {
  view.error = message;
  element('error').textContent = message ?? '';
}

function showRecord(shown: RunRecord): void {
  record = shown;
  view.runId = shown.runId;
  view.epochs = [...shown.epochs];
  view.result = shown.result;
  view.backend = shown.backend;
  view.threads = shown.threads;
  element('backend-name').textContent = shown.backend ?? '–';
  element('threads').textContent = shown.threads === undefined ? '–' : String(shown.threads);
  showError(shown.error);
  drawCharts();
  showResult(shown.result);
  void store.read(runFiles.cam(shown.runId)).then((png) => {
    if (png !== undefined && record?.runId === shown.runId) drawCam(decodePng(png));
  });
}

function onWorkerMessage(message: FromWorker): void {
  switch (message.type) {
    case 'backend':
      view.backend = message.backend;
      view.threads = message.threads;
      element('backend-name').textContent = message.backend;
      element('threads').textContent = String(message.threads);
      element('backend-detail').textContent = message.detail;
      setState('running');
      break;
    case 'stage':
      element('progress').textContent = STAGE_LABELS[message.stage];
      break;
    case 'step':
      view.imagesPerSecond = message.imagesPerSecond;
      element('ips').textContent = message.imagesPerSecond.toFixed(1);
      element('progress').textContent =
        `${STAGE_LABELS[message.stage]}: epoch ${message.epoch}/${message.epochs}, step ${message.step}/${message.stepsPerEpoch ?? '?'}`;
      break;
    case 'epoch': {
      const index = view.epochs.findIndex(
        (each) => each.stage === message.entry.stage && each.epoch === message.entry.epoch,
      );
      if (index === -1) view.epochs.push(message.entry);
      else view.epochs[index] = message.entry;
      drawCharts();
      break;
    }
    case 'cam':
      drawCam({ width: message.width, height: message.height, channels: 4, data: new Uint8Array(message.rgba.buffer) });
      break;
    case 'paused':
      setState('paused');
      break;
    case 'continued':
      setState('running');
      break;
    case 'finished':
      view.result = message.result;
      if (record !== undefined) record.result = message.result;
      showResult(message.result);
      finish('finished');
      break;
    case 'stopped':
      finish('stopped');
      break;
    case 'failed':
      showError(message.message);
      finish('failed');
      break;
  }
}

function finish(state: PlaygroundState): void {
  worker?.terminate();
  worker = undefined;
  setState(state);
  void listRuns();
}

/** Starts the worker on `run` (new, or resumed from its checkpoints). */
function launch(run: RunRecord): void {
  const cam = element<HTMLCanvasElement>('cam');
  cam.width = 1;
  cam.height = 1;
  view.camDrawn = false;
  showRecord(run);
  setState('starting');
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<FromWorker>) => onWorkerMessage(event.data);
  worker.onerror = (event) => {
    showError(`the training worker failed: ${event.message}`);
    finish('failed');
  };
  worker.postMessage({ type: 'start', record: run });
}

function newRun(): RunRecord {
  // The URL's fields apply when the URL's preset is the one selected (autostart, or a click on Start).
  const preset = presetSelect.value;
  const fromQuery = (query.get('preset') ?? 'minute') === preset ? configFromQuery(query) : presetConfig(preset);
  const config = { ...fromQuery, lambda: Number(lambdaInput.value) };
  const now = new Date().toISOString();
  return {
    runId: `run-${Date.now().toString(36)}`,
    preset,
    config,
    backendChoice: backendSelect.value as BackendChoice,
    status: 'running',
    createdAt: now,
    updatedAt: now,
    epochs: [],
  };
}

async function readRecords(): Promise<RunRecord[]> {
  const names = (await store.names()).filter((name) => name.endsWith('/playground.json'));
  const records: RunRecord[] = [];
  for (const name of names) {
    const bytes = await store.read(name);
    if (bytes !== undefined) records.push(JSON.parse(new TextDecoder().decode(bytes)) as RunRecord);
  }
  return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

async function listRuns(): Promise<void> {
  const table = element<HTMLTableElement>('runs');
  const records = await readRecords();
  table.innerHTML =
    '<tr><th>run</th><th>preset</th><th>λ</th><th>backend</th><th>status</th><th>epochs</th><th>students (MLL / MCMI)</th><th></th></tr>';
  for (const each of records) {
    const row = table.insertRow();
    const students =
      each.result === undefined ? '–' : each.result.rows.map((r) => percent(r.studentAccuracy)).join(' / ');
    for (const text of [
      each.runId,
      each.preset,
      each.config.lambda.toFixed(2),
      `${each.backend ?? each.backendChoice}${each.threads === undefined ? '' : ` ×${each.threads}`}`,
      each.status,
      String(each.epochs.length),
      students,
    ]) {
      row.insertCell().textContent = text;
    }
    const actions = row.insertCell();
    const show = document.createElement('button');
    show.textContent = 'show';
    show.disabled = worker !== undefined;
    show.onclick = () => showRecord(each);
    actions.append(show);
    if (each.status === 'stopped' || each.status === 'failed') {
      const resume = document.createElement('button');
      resume.textContent = 'resume';
      resume.disabled = worker !== undefined;
      resume.onclick = () => launch({ ...each, status: 'running', error: undefined });
      actions.append(resume);
    }
  }
}

startButton.onclick = () => {
  try {
    launch(newRun());
  } catch (error) {
    showError(error instanceof Error ? error.message : String(error));
  }
};
pauseButton.onclick = () => {
  worker?.postMessage({ type: paused ? 'continue' : 'pause' });
  paused = !paused;
};
stopButton.onclick = () => {
  paused = false;
  worker?.postMessage({ type: 'stop' });
};

async function boot(): Promise<void> {
  setState('idle');
  drawCharts();
  // A run still marked running was being trained when the page closed: resume it from its checkpoints.
  const unfinished = (await readRecords()).find((each) => each.status === 'running');
  await listRuns();
  if (unfinished !== undefined) {
    view.resumed = true;
    launch(unfinished);
  } else if (query.get('autostart') === '1') {
    launch(newRun());
  }
}

boot().catch((error: unknown) => {
  showError(error instanceof Error ? error.message : String(error));
  setState('failed');
});
