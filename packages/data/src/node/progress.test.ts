import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { describeWithBackends } from '@kd/test-utils';
import type { DownloadProgressEvent } from './progress';
import { createDownloadProgressBar, formatBytes, formatDuration } from './progress';

function capture(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => text };
}

const event = (receivedBytes: number): DownloadProgressEvent => ({
  fileName: 'stl10_binary.tar.gz',
  receivedBytes,
  totalBytes: 1000,
  resumedFrom: 200,
  bytesPerSecond: 100,
  etaSeconds: (1000 - receivedBytes) / 100,
});

describeWithBackends('progress bar', () => {
  it('prints one line per 10% when stderr is not a terminal', () => {
    const { stream, text } = capture(false);
    const bar = createDownloadProgressBar({ stream });
    bar.start(event(200));
    for (let received = 200; received <= 1000; received += 50) bar.progress(event(received));
    bar.finish(event(1000));
    const lines = text().trim().split('\n');
    expect(lines[0]).toBe('downloading stl10_binary.tar.gz (resuming at 200 B)');
    expect(lines.slice(1, -1).map((line) => line.split(/\s+/)[1])).toEqual([
      '20%',
      '30%',
      '40%',
      '50%',
      '60%',
      '70%',
      '80%',
      '90%',
    ]);
    expect(lines.at(-1)).toContain('100%');
    expect(lines.at(-1)).toContain('ETA 0:00');
  });

  it('redraws in place on a terminal', () => {
    const { stream, text } = capture(true);
    const bar = createDownloadProgressBar({ stream, intervalMs: 0 });
    bar.start(event(200));
    bar.progress(event(500));
    expect(text()).toContain('\r');
    expect(text()).toContain('500 B / 1.0 kB  100 B/s  ETA 0:05');
  });

  it('formats sizes and durations', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(2_600_000_000)]).toEqual(['999 B', '1.5 kB', '2.6 GB']);
    expect([formatDuration(65), formatDuration(3725), formatDuration(Number.NaN)]).toEqual([
      '1:05',
      '1:02:05',
      '--:--',
    ]);
  });
});
