/**
 * End to end in Debian's headless Chromium: build the app, serve it with COOP/COEP on 127.0.0.1, run the smoke
 * preset on wasm and on webgl, reload a run mid-way and check it resumes from IndexedDB to the same weights.
 * Skipped (with a message) only when the machine has no Chromium. `KD_PLAYGROUND_SCREENSHOTS=1` also writes
 * the README's screenshots to docs/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import type { Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../src/presets';
import {
  appRoot,
  buildAndServe,
  chromiumPath,
  launchChromium,
  nonWhitePixels,
  waitFor,
  type LaunchedBrowser,
  type PlaygroundSnapshot,
} from './harness';

const executable = chromiumPath();
if (executable === undefined) {
  process.stderr.write(
    'playground e2e: SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium, or set KD_CHROMIUM)\n',
  );
}
const screenshots = process.env.KD_PLAYGROUND_SCREENSHOTS === '1';
const smoke = presetConfig('smoke');
const CHANCE = 0.1;

/** One point per teacher epoch on the CMI chart, and a finite CMI on each of them. */
function expectCmiPerTeacherEpoch(view: PlaygroundSnapshot, teacherEpochs: number): void {
  const teacherEntries = view.epochs.filter((entry) => entry.stage === 'teacher-mll' || entry.stage === 'teacher-mcmi');
  expect(teacherEntries).toHaveLength(teacherEpochs);
  expect(view.chartPoints.cmi).toBe(teacherEpochs);
  for (const entry of teacherEntries) expect(Number.isFinite(entry.teacherCmi)).toBe(true);
}

/** Reads a run file from the page's IndexedDB (the store's raw record), as text. */
async function readStoredText(page: Page, name: string): Promise<string | undefined> {
  const bytes = await readStoredBytes(page, name);
  return bytes === undefined ? undefined : new TextDecoder().decode(Uint8Array.from(bytes));
}

/** Reads a run file from the page's IndexedDB (the store's raw record) as an array of bytes. */
function readStoredBytes(page: Page, name: string): Promise<number[] | undefined> {
  return page.evaluate(
    (file) =>
      new Promise<number[] | undefined>((resolve, reject) => {
        const request = indexedDB.open('kd-playground');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const get = request.result.transaction('files', 'readonly').objectStore('files').get(file);
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            request.result.close();
            resolve(get.result === undefined ? undefined : Array.from(get.result as Uint8Array));
          };
        };
      }),
    name,
  );
}

describeWithBackends('browser playground (headless Chromium)', () => {
  describe.skipIf(executable === undefined)('build, serve, train', () => {
    let outDir = '';
    let server: PreviewServer;
    let url = '';
    let chromium: LaunchedBrowser;
    let uninterrupted: PlaygroundSnapshot | undefined;

    beforeAll(async () => {
      outDir = await mkdtemp(join(tmpdir(), 'kd-playground-dist-'));
      ({ server, url } = await buildAndServe(outDir));
      chromium = await launchChromium(executable as string);
    });
    afterAll(async () => {
      await chromium?.close();
      await server?.close();
      await rm(outDir, { recursive: true, force: true });
    });

    it('smoke preset on wasm: finishes, students above chance, one CMI point per teacher epoch, CAM drawn, isolated', async () => {
      const page = await chromium.context.newPage();
      await page.goto(`${url}?preset=smoke&backend=wasm&autostart=1`);
      const view = await waitFor(page, (each) => each.state === 'finished', 600_000);
      expect(view.error).toBeUndefined();
      expect(view.state).toBe('finished');
      expect(view.crossOriginIsolated).toBe(true);
      expect(view.backend).toBe('wasm');
      // Isolated, so wasm runs one thread per logical core.
      expect(view.threads).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
      expect(view.imagesPerSecond).toBeGreaterThan(0);
      expect(view.epochs).toHaveLength(smoke.teacherEpochs + smoke.mcmiEpochs + 2 * smoke.studentEpochs);
      expectCmiPerTeacherEpoch(view, smoke.teacherEpochs + smoke.mcmiEpochs);
      expect(view.result?.rows).toHaveLength(2);
      for (const row of view.result?.rows ?? []) expect(row.studentAccuracy).toBeGreaterThan(2 * CHANCE);
      expect(view.result?.studentWeightsSha256['from-mll']).toMatch(/^[0-9a-f]{64}$/);
      // The CAM grid: 3 rows of camImages pictures at 3×28 px, mostly non-white.
      expect(view.camDrawn).toBe(true);
      expect(await nonWhitePixels(page, 'cam')).toBeGreaterThan(3 * smoke.camImages * 84 * 84 * 0.5);
      expect(await nonWhitePixels(page, 'chart-cmi')).toBeGreaterThan(1000);
      // The exports: weights.bin holds every float32 of the student (trainable and BN statistics: the mlp has
      // none), model.safetensors the same values behind its JSON header.
      const parameters = view.result?.parameters.student ?? 0;
      const weights = await readStoredBytes(page, `${view.runId}/export/student-from-mll/weights.bin`);
      expect(weights?.length).toBe(4 * parameters);
      const safetensors = await readStoredBytes(page, `${view.runId}/export/student-from-mll/model.safetensors`);
      expect(safetensors?.length).toBeGreaterThan(4 * parameters);
      const manifest = JSON.parse(
        (await readStoredText(page, `${view.runId}/export/student-from-mll/model.json`)) ?? '{}',
      ) as { format?: string };
      expect(manifest.format).toBe('kd-weights');
      if (screenshots) await page.screenshot({ path: join(appRoot, 'docs', 'playground-wasm.png'), fullPage: true });
      uninterrupted = view;
      await page.close();
    });

    it('a reload mid-run resumes from IndexedDB to the same final weights as the uninterrupted run', async () => {
      expect(uninterrupted?.result).toBeDefined();
      const page = await chromium.context.newPage();
      // The first run finished, so autostart begins a new one (same preset, backend and seed).
      await page.goto(`${url}?preset=smoke&backend=wasm&autostart=1`);
      const before = await waitFor(page, (each) => each.state === 'running' && each.epochs.length >= 1, 600_000);
      expect(before.runId).not.toBe(uninterrupted?.runId);
      await page.reload();
      const after = await waitFor(page, (each) => each.state === 'finished', 600_000);
      expect(after.error).toBeUndefined();
      expect(after.resumed).toBe(true);
      expect(after.runId).toBe(before.runId);
      expect(after.result?.studentWeightsSha256).toEqual(uninterrupted?.result?.studentWeightsSha256);
      expect(after.epochs).toHaveLength(uninterrupted?.epochs.length ?? -1);
      expectCmiPerTeacherEpoch(after, smoke.teacherEpochs + smoke.mcmiEpochs);
      // The MLL teacher continued from its checkpoint instead of starting over.
      const record = JSON.parse((await readStoredText(page, `${after.runId}/teacher-mll/run.json`)) ?? '{}') as {
        resumedFromEpochs?: number[];
      };
      expect(record.resumedFromEpochs?.length).toBeGreaterThanOrEqual(1);
      await page.close();
    });

    it('smoke preset on webgl (SwiftShader, fewer images): finishes, CMI points, CAM drawn, isolated, same losses as wasm', async () => {
      // SwiftShader runs WebGL on the CPU about 60× slower than wasm here (README), so this leg trains on 32
      // images, too few for accuracy to mean anything: instead its first epoch's loss must match wasm's on the
      // same images, seeds and batches (same model, same arithmetic up to float rounding).
      const reduced = {
        trainSize: 32,
        testSize: 32,
        teacherEpochs: 1,
        mcmiEpochs: 1,
        studentEpochs: 1,
        batchSize: 8,
        camImages: 4,
      };
      const fields = Object.fromEntries(Object.entries(reduced).map(([key, value]) => [key, String(value)]));
      const run = async (backend: string, screenshot: boolean) => {
        const page = await chromium.context.newPage();
        await page.goto(`${url}?${new URLSearchParams({ preset: 'smoke', backend, autostart: '1', ...fields })}`);
        const view = await waitFor(page, (each) => each.state === 'finished', 840_000);
        const camPixels = await nonWhitePixels(page, 'cam');
        if (screenshot && screenshots)
          await page.screenshot({ path: join(appRoot, 'docs', 'playground-webgl.png'), fullPage: true });
        await page.close();
        return { view, camPixels };
      };
      const webgl = await run('webgl', true);
      const wasm = await run('wasm', false);
      expect(webgl.view.error).toBeUndefined();
      expect(webgl.view.state).toBe('finished');
      expect(webgl.view.backend).toBe('webgl');
      expect(webgl.view.crossOriginIsolated).toBe(true);
      expectCmiPerTeacherEpoch(webgl.view, reduced.teacherEpochs + reduced.mcmiEpochs);
      expect(webgl.camPixels).toBeGreaterThan(3 * reduced.camImages * 84 * 84 * 0.5);
      expect(webgl.view.result?.rows).toHaveLength(2);
      const firstEpoch = (view: PlaygroundSnapshot) =>
        view.epochs.find((entry) => entry.stage === 'teacher-mll' && entry.epoch === 1);
      const webglLoss = firstEpoch(webgl.view)?.losses.ce ?? Number.NaN;
      const wasmLoss = firstEpoch(wasm.view)?.losses.ce ?? Number.NaN;
      expect(Number.isFinite(wasmLoss)).toBe(true);
      expect(Math.abs(webglLoss - wasmLoss)).toBeLessThan(0.01 * wasmLoss);
    });
  });
});
