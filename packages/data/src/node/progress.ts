/**
 * Download progress: a reporter interface (inject your own, or silence it) and the default bar on stderr,
 * e.g. `cifar-10-binary.tar.gz  41% ████████░░░░░░░░░░░░  67.5 MB / 162.6 MB  8.1 MB/s  ETA 0:12`.
 */
import { formatBytes as formatByteCount } from '@kd/internal';

/** "1.5 MB" (SI units, as download tools print them). Declared here so the public types name no private package. */
export const formatBytes: (bytes: number) => string = formatByteCount;

export interface DownloadProgressEvent {
  fileName: string;
  /** Bytes on disk so far, including a resumed part. */
  receivedBytes: number;
  /** Full size when the server reports it. */
  totalBytes: number | undefined;
  /** Bytes where this session started (non-zero when resuming). */
  resumedFrom: number;
  /** Mean rate of this session, bytes per second. */
  bytesPerSecond: number;
  /** Seconds left at the current rate, when the total is known. */
  etaSeconds: number | undefined;
}

export interface DownloadProgressReporter {
  start(event: DownloadProgressEvent): void;
  progress(event: DownloadProgressEvent): void;
  finish(event: DownloadProgressEvent): void;
}

/** A reporter that prints nothing. */
export const silentDownloadProgress: DownloadProgressReporter = { start() {}, progress() {}, finish() {} };

/** "1:02:03" or "2:03". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** One line of the bar for `event`. */
export function formatDownloadProgress(event: DownloadProgressEvent, width = 20): string {
  const { fileName, receivedBytes, totalBytes, bytesPerSecond, etaSeconds } = event;
  const speed = `${formatBytes(bytesPerSecond)}/s`;
  if (totalBytes === undefined || totalBytes === 0) return `${fileName}  ${formatBytes(receivedBytes)}  ${speed}`;
  const fraction = Math.min(1, receivedBytes / totalBytes);
  const filled = Math.round(fraction * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${fileName} ${percent} ${bar}  ${formatBytes(receivedBytes)} / ${formatBytes(totalBytes)}  ${speed}  ETA ${formatDuration(etaSeconds ?? Number.NaN)}`;
}

/**
 * The default reporter: redraws one line in place on a TTY (at most every `intervalMs`), prints a line every
 * 10% otherwise (logs stay readable).
 */
export function createDownloadProgressBar({
  stream = process.stderr,
  intervalMs = 200,
}: {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  intervalMs?: number;
} = {}): DownloadProgressReporter {
  let lastDraw = 0;
  let lastDecile = -1;
  const tty = stream.isTTY === true;
  return {
    start(event) {
      lastDraw = 0;
      lastDecile = -1;
      const resumed = event.resumedFrom > 0 ? ` (resuming at ${formatBytes(event.resumedFrom)})` : '';
      stream.write(`downloading ${event.fileName}${resumed}\n`);
    },
    progress(event) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < intervalMs) return;
        lastDraw = now;
        stream.write(`\r${formatDownloadProgress(event)}\x1b[K`);
      } else if (event.totalBytes) {
        const decile = Math.floor((10 * event.receivedBytes) / event.totalBytes);
        if (decile > lastDecile && decile < 10) {
          lastDecile = decile;
          stream.write(`${formatDownloadProgress(event)}\n`);
        }
      }
    },
    finish(event) {
      stream.write(`${tty ? '\r' : ''}${formatDownloadProgress(event)}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}
