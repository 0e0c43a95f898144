import { assertKnownOptions } from '@kd/internal';
/** What the trainer tells a progress reporter after each step. */
export interface StepInfo {
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch. */
  step: number;
  /** Steps in this epoch (undefined when the loader's length is unknown). */
  stepsPerEpoch: number | undefined;
  /** Global optimiser step count (1-based). */
  globalStep: number;
  /** Loss parts of this step, weighted, plus `total`. */
  losses: Record<string, number>;
  learningRate: number;
  /** Training throughput of this epoch so far. */
  imagesPerSecond: number;
}

/** Receives progress; the default prints a one-line bar to stderr. */
export interface ProgressReporter {
  onStep(info: StepInfo): void;
  onEpochEnd(summary: string): void;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

/** One progress line: `epoch 3/240 [#####-----] 120/782 loss 1.234 (ce 0.5 kd 0.7) 812 img/s ETA 4m10s`. */
export function formatProgressLine(info: StepInfo, secondsLeft: number): string {
  const width = 20;
  const fraction = info.stepsPerEpoch ? Math.min(info.step / info.stepsPerEpoch, 1) : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const parts = Object.entries(info.losses)
    .filter(([name]) => name !== 'total')
    .map(([name, value]) => `${name} ${value.toFixed(4)}`)
    .join(' ');
  const total = info.losses.total ?? Number.NaN;
  return (
    `epoch ${info.epoch}/${info.epochs} ${bar} ${info.step}/${info.stepsPerEpoch ?? '?'} ` +
    `loss ${total.toFixed(4)}${parts ? ` (${parts})` : ''} lr ${info.learningRate.toPrecision(3)} ` +
    `${info.imagesPerSecond.toFixed(1)} img/s ETA ${formatSeconds(secondsLeft)}`
  );
}

interface WritableLike {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * The default console reporter: rewrites one line (`\r`) on a terminal, at most every `intervalMs`; prints one
 * line per epoch otherwise (logs, CI).
 */
export function consoleProgress(options: { intervalMs?: number } = {}): ProgressReporter {
  assertKnownOptions('consoleProgress', options, ['intervalMs']);
  const { intervalMs = 200 } = options;
  const stream = (globalThis as { process?: { stderr?: WritableLike } }).process?.stderr;
  let last = 0;
  let runStarted = 0;
  let stepsDone = 0;
  return {
    onStep(info) {
      if (runStarted === 0) runStarted = Date.now();
      stepsDone++;
      if (stream?.isTTY !== true) return;
      const now = Date.now();
      if (now - last < intervalMs && info.step !== info.stepsPerEpoch) return;
      last = now;
      const perStep = (now - runStarted) / 1000 / stepsDone;
      const remainingSteps = info.stepsPerEpoch
        ? (info.epochs - info.epoch) * info.stepsPerEpoch + (info.stepsPerEpoch - info.step)
        : Number.NaN;
      stream.write(`\r${formatProgressLine(info, perStep * remainingSteps)}\u001b[K`);
    },
    onEpochEnd(summary) {
      if (stream !== undefined) stream.write(`${stream.isTTY === true ? '\r\u001b[K' : ''}${summary}\n`);
      else console.log(summary);
    },
  };
}
