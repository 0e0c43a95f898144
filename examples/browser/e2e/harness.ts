/**
 * What the browser end-to-end test needs: build the app, serve it with Vite's preview server (which sends the
 * COOP/COEP headers of vite.config.ts) on 127.0.0.1, and drive Debian's Chromium headless with playwright-core.
 * Nothing downloads a browser: the executable is /usr/bin/chromium (or KD_CHROMIUM).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';

export const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Chromium binary, or undefined when the machine has none. */
export function chromiumPath(): string | undefined {
  const candidate = process.env.KD_CHROMIUM ?? '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : undefined;
}

/** Builds the app into `outDir` and serves it; returns the server and its base URL. */
export async function buildAndServe(outDir: string): Promise<{ server: PreviewServer; url: string }> {
  const configFile = join(appRoot, 'vite.config.ts');
  await build({ root: appRoot, configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({
    root: appRoot,
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string')
    throw new Error('harness: the preview server has no TCP address');
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile. The flags keep it off the network this machine does not have;
 * `--use-angle=swiftshader --enable-unsafe-swiftshader` give WebGL on the CPU (there is no GPU).
 */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'kd-playground-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1760, height: 1100 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface PlaygroundSnapshot {
  state: string;
  runId: string | undefined;
  resumed: boolean;
  backend: string | undefined;
  threads: number | undefined;
  imagesPerSecond: number | undefined;
  epochs: Array<{
    stage: string;
    epoch: number;
    losses: Record<string, number>;
    testAccuracy: number;
    teacherCmi?: number;
    imagesPerSecond: number;
  }>;
  result:
    | {
        rows: Array<{ teacher: string; studentAccuracy: number; teacherAccuracy: number; teacherCmi: number }>;
        studentWeightsSha256: Record<string, string>;
        parameters: { teacher: number; student: number };
      }
    | undefined;
  error: string | undefined;
  crossOriginIsolated: boolean;
  chartPoints: { loss: number; accuracy: number; cmi: number };
  camDrawn: boolean;
}

export function snapshot(page: Page): Promise<PlaygroundSnapshot> {
  return page.evaluate(
    () =>
      JSON.parse(JSON.stringify((window as unknown as { kdPlayground: unknown }).kdPlayground)) as PlaygroundSnapshot,
  );
}

/** Polls the page until `done` holds or the run failed; throws with the last snapshot after `timeoutMs`. */
export async function waitFor(
  page: Page,
  done: (view: PlaygroundSnapshot) => boolean,
  timeoutMs: number,
): Promise<PlaygroundSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: PlaygroundSnapshot | undefined;
  while (Date.now() < deadline) {
    // A navigation in progress (the reload) makes evaluate fail: poll again.
    last = await snapshot(page).catch(() => undefined);
    if (last !== undefined && (done(last) || last.state === 'failed')) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`waitFor: timed out after ${timeoutMs} ms; last state ${JSON.stringify(last)}`);
}

/** Pixels of the canvas `id` that are not white (the background of @kd/plot's grid). */
export function nonWhitePixels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    if (data === undefined) return 0;
    let count = 0;
    for (let index = 0; index < data.length; index += 4) {
      if (data[index] !== 255 || data[index + 1] !== 255 || data[index + 2] !== 255) count++;
    }
    return count;
  }, id);
}
