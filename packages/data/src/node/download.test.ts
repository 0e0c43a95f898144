import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBackends, seededRandom } from '@kd/test-utils';
import { md5, startServer } from '../__fixtures__/server';
import type { TestServer } from '../__fixtures__/server';
import { downloadFile } from './download';
import type { DownloadProgressEvent } from './progress';
import { formatDownloadProgress, silentDownloadProgress } from './progress';

const random = seededRandom(11);
const body = Uint8Array.from({ length: 300_000 }, () => Math.floor(random() * 256));
const digest = md5(body);

describeWithBackends('downloadFile', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startServer({
      '/flaky.bin': { body, dropFirst: true },
      '/flaky-again.bin': { body, dropFirst: true },
      '/plain.bin': { body },
      '/no-range.bin': { body, ignoreRange: true },
      '/missing.bin': { body, status: 404 },
    });
    dir = mkdtempSync(join(tmpdir(), 'kd-download-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes an interrupted transfer with a Range request and verifies it', async () => {
    const destination = join(dir, 'flaky.bin');
    const events: DownloadProgressEvent[] = [];
    await downloadFile({
      url: server.url('/flaky.bin'),
      destination,
      md5: digest,
      reporter: { ...silentDownloadProgress, start: (e) => events.push(e), finish: (e) => events.push(e) },
    });
    const ranges = server.requests.filter((r) => r.path === '/flaky.bin').map((r) => r.range);
    expect(ranges.length).toBe(2);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    const resumedAt = Number(/=(\d+)-/.exec(ranges[1]!)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(body.length);
    expect(events.at(-1)!.resumedFrom).toBe(resumedAt);
    expect(events.at(-1)!.receivedBytes).toBe(body.length);
    expect(md5(new Uint8Array(readFileSync(destination)))).toBe(digest);
    expect(existsSync(`${destination}.part`)).toBe(false);
  });

  it('keeps the .part file when retries run out, and the next call resumes it', async () => {
    const destination = join(dir, 'again.bin');
    await expect(
      downloadFile({
        url: server.url('/flaky-again.bin'),
        destination,
        md5: digest,
        retries: 0,
        reporter: silentDownloadProgress,
      }),
    ).rejects.toThrow(/again\.bin: connection closed after \d+ bytes.*kept in again\.bin\.part; run again to resume/);
    expect(existsSync(destination)).toBe(false);
    const partSize = statSync(`${destination}.part`).size;
    expect(partSize).toBeGreaterThan(0);
    await downloadFile({
      url: server.url('/flaky-again.bin'),
      destination,
      md5: digest,
      retries: 0,
      reporter: silentDownloadProgress,
    });
    expect(server.requests.filter((r) => r.path === '/flaky-again.bin').at(-1)!.range).toBe(`bytes=${partSize}-`);
    expect(md5(new Uint8Array(readFileSync(destination)))).toBe(digest);
  });

  it('starts over when the server ignores Range', async () => {
    const destination = join(dir, 'no-range.bin');
    writeFileSync(`${destination}.part`, Uint8Array.of(9, 9, 9, 9)); // stale bytes that must not survive
    await downloadFile({
      url: server.url('/no-range.bin'),
      destination,
      md5: digest,
      reporter: silentDownloadProgress,
    });
    expect(md5(new Uint8Array(readFileSync(destination)))).toBe(digest);
  });

  it('rejects a checksum mismatch and leaves neither the final file nor the part', async () => {
    const destination = join(dir, 'plain.bin');
    const wrong = 'f'.repeat(32);
    await expect(
      downloadFile({ url: server.url('/plain.bin'), destination, md5: wrong, reporter: silentDownloadProgress }),
    ).rejects.toThrow(`downloadFile: plain.bin: checksum mismatch: md5 ${digest}, expected ${wrong}`);
    expect(readdirSync(dir).filter((name) => name.startsWith('plain.bin'))).toEqual([]);
  });

  it('reports HTTP errors and bad options', async () => {
    await expect(
      downloadFile({
        url: server.url('/missing.bin'),
        destination: join(dir, 'm.bin'),
        md5: digest,
        reporter: silentDownloadProgress,
      }),
    ).rejects.toThrow('HTTP 404');
    await expect(
      downloadFile({ url: server.url('/plain.bin'), destination: join(dir, 'x.bin'), md5: 'abc' }),
    ).rejects.toThrow('downloadFile: options.md5 must be 32 hex digits');
    expect(existsSync(join(dir, 'm.bin'))).toBe(false);
  });

  it('formats bytes, speed and ETA in the progress line', () => {
    const line = formatDownloadProgress({
      fileName: 'f.tar.gz',
      receivedBytes: 50_000_000,
      totalBytes: 200_000_000,
      resumedFrom: 0,
      bytesPerSecond: 5_000_000,
      etaSeconds: 30,
    });
    expect(line).toBe('f.tar.gz  25% █████░░░░░░░░░░░░░░░  50.0 MB / 200.0 MB  5.0 MB/s  ETA 0:30');
  });
});
