/**
 * Verified, resumable downloads. Bytes go to `<destination>.part`; an interrupted transfer keeps it and the
 * next attempt asks for the rest with `Range: bytes=N-` (starting over when the server ignores Range). The part
 * file is renamed to its final name only after its MD5 matches, so the final name never holds a partial or
 * corrupt file.
 */
import { assertKnownOptions } from '@kd/internal';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { basename, dirname } from 'node:path';
import type { DownloadProgressEvent, DownloadProgressReporter } from './progress';
import { createDownloadProgressBar } from './progress';
import { commitFileSync } from '@kd/internal/node';

export interface DownloadOptions {
  url: string;
  /** Final path; written only once the checksum matches. */
  destination: string;
  /** Expected MD5 of the whole file, lowercase hex. */
  md5: string;
  /** Progress output; default a bar on stderr. */
  reporter?: DownloadProgressReporter;
  /** Extra attempts after an interrupted transfer (each resumes). Default 3. */
  retries?: number;
  /** Abort an attempt after this long without data. Default 60 s. */
  idleTimeoutMs?: number;
}

/** MD5 of a file, streamed. */
export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function get(
  url: string,
  headers: Record<string, string>,
  idleTimeoutMs: number,
  redirectsLeft = 5,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (client === undefined) {
      reject(new Error(`downloadFile: ${url}: unsupported protocol ${parsed.protocol}`));
      return;
    }
    const request = client.get(parsed, { headers: { 'user-agent': '@kd/data', ...headers } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirectsLeft === 0) {
          reject(new Error(`downloadFile: ${url}: too many redirects`));
          return;
        }
        get(new URL(response.headers.location, url).toString(), headers, idleTimeoutMs, redirectsLeft - 1).then(
          resolve,
          reject,
        );
        return;
      }
      resolve(response);
    });
    request.setTimeout(idleTimeoutMs, () => request.destroy(new Error(`no data for ${idleTimeoutMs} ms`)));
    request.on('error', reject);
  });
}

class InterruptedError extends Error {}

/** One attempt: appends to (or restarts) the part file. Resolves when the server sent the whole body. */
async function attempt(
  options: Required<Omit<DownloadOptions, 'reporter'>> & {
    reporter: DownloadProgressReporter;
    part: string;
    fileName: string;
  },
): Promise<void> {
  const { url, part, fileName, reporter, idleTimeoutMs } = options;
  let start = existsSync(part) ? statSync(part).size : 0;
  let response: IncomingMessage;
  try {
    response = await get(url, start > 0 ? { range: `bytes=${start}-` } : {}, idleTimeoutMs);
  } catch (error) {
    throw new InterruptedError(`downloadFile: ${fileName}: request to ${url} failed: ${(error as Error).message}`);
  }
  const status = response.statusCode ?? 0;
  let totalBytes: number | undefined;
  if (status === 416 && start > 0) {
    response.resume();
    // Range not satisfiable: the part is complete if the server's size equals it; otherwise start over.
    const total = Number(/\/(\d+)$/.exec(response.headers['content-range'] ?? '')?.[1]);
    if (total === start) return;
    rmSync(part, { force: true });
    throw new InterruptedError(`downloadFile: ${fileName}: server rejected the resume range; restarting`);
  }
  if (status === 206) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range'] ?? '');
    if (!match || Number(match[1]) !== start) {
      response.resume();
      rmSync(part, { force: true });
      throw new InterruptedError(
        `downloadFile: ${fileName}: server answered a different range (${response.headers['content-range']}); restarting`,
      );
    }
    totalBytes = match[3] === '*' ? undefined : Number(match[3]);
  } else if (status === 200) {
    start = 0; // the server ignored Range (or there was nothing to resume): rewrite from the beginning
    const length = Number(response.headers['content-length']);
    totalBytes = Number.isFinite(length) ? length : undefined;
  } else {
    response.resume();
    throw new Error(`downloadFile: ${fileName}: ${url} answered HTTP ${status} ${response.statusMessage ?? ''}`.trim());
  }
  mkdirSync(dirname(part), { recursive: true });
  const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  const startedAt = Date.now();
  let received = start;
  const event = (): DownloadProgressEvent => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 1e-3);
    const bytesPerSecond = (received - start) / seconds;
    const etaSeconds =
      totalBytes !== undefined && bytesPerSecond > 0 ? (totalBytes - received) / bytesPerSecond : undefined;
    return { fileName, receivedBytes: received, totalBytes, resumedFrom: start, bytesPerSecond, etaSeconds };
  };
  reporter.start(event());
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      response.destroy();
      out.end(() => reject(error));
    };
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!out.write(chunk)) {
        response.pause();
        out.once('drain', () => response.resume());
      }
      reporter.progress(event());
    });
    response.on('aborted', () =>
      fail(new InterruptedError(`downloadFile: ${fileName}: connection closed after ${received} bytes`)),
    );
    response.on('error', (error) =>
      fail(new InterruptedError(`downloadFile: ${fileName}: ${error.message} after ${received} bytes`)),
    );
    out.on('error', (error) => fail(error));
    response.on('end', () => {
      if (failed) return;
      if (totalBytes !== undefined && received < totalBytes) {
        fail(
          new InterruptedError(`downloadFile: ${fileName}: connection closed after ${received} of ${totalBytes} bytes`),
        );
        return;
      }
      out.end(() => resolve());
    });
    response.on('close', () => {
      if (!response.complete)
        fail(new InterruptedError(`downloadFile: ${fileName}: connection closed after ${received} bytes`));
    });
  });
  reporter.finish(event());
}

/**
 * Downloads `url` to `destination`, resuming an earlier `.part` file, retrying interrupted transfers, and
 * renaming into place only when the MD5 matches. A checksum mismatch deletes the part file (it can never
 * become right) and throws an error naming the file, the expected and the actual digest.
 *
 * @example
 * await downloadFile({ url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
 *   destination: '/data/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530' });
 */
export async function downloadFile(options: DownloadOptions): Promise<void> {
  const fn = 'downloadFile';
  assertKnownOptions(fn, options, ['url', 'destination', 'md5', 'reporter', 'retries', 'idleTimeoutMs']);
  const { url, destination } = options;
  if (typeof url !== 'string' || typeof destination !== 'string')
    throw new Error(`${fn}: options.url and options.destination must be strings`);
  const md5 = options.md5?.toLowerCase();
  if (typeof md5 !== 'string' || !/^[0-9a-f]{32}$/.test(md5))
    throw new Error(`${fn}: options.md5 must be 32 hex digits, got ${String(options.md5)}`);
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0)
    throw new Error(`${fn}: options.retries must be a non-negative integer, got ${retries}`);
  if (existsSync(destination)) return;
  const fileName = basename(destination);
  const part = `${destination}.part`;
  const reporter = options.reporter ?? createDownloadProgressBar();
  for (let attemptIndex = 0; ; attemptIndex++) {
    try {
      await attempt({
        url,
        destination,
        md5,
        retries,
        idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
        reporter,
        part,
        fileName,
      });
      break;
    } catch (error) {
      if (!(error instanceof InterruptedError) || attemptIndex >= retries) {
        const partNote = existsSync(part)
          ? ` (${statSync(part).size} bytes kept in ${basename(part)}; run again to resume)`
          : '';
        throw new Error(`${(error as Error).message}${error instanceof InterruptedError ? partNote : ''}`);
      }
    }
  }
  const actual = await md5OfFile(part);
  if (actual !== md5) {
    rmSync(part, { force: true });
    throw new Error(
      `${fn}: ${fileName}: checksum mismatch: md5 ${actual}, expected ${md5} (from ${url}); the download was deleted, run again to retry`,
    );
  }
  commitFileSync(part, destination);
}
