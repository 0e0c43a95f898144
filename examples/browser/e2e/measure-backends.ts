/**
 * `pnpm --filter @kd-example/browser bench [spec…]`: images per second of the trainer's teacher step in headless
 * Chromium, per backend (bench.html, steady state after one warm-up epoch). A spec is bench.html's query, e.g.
 * `backend=webgl&model=resnet8&batch=16&steps=3`; the default measures wasm on 1 thread and on every core, and webgl, on resnet8, batch 16.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildAndServe, chromiumPath, launchChromium } from './harness';

const specs = process.argv.slice(2).filter((arg) => arg !== '--');
const runs =
  specs.length > 0
    ? specs
    : [
        'backend=wasm&threads=1&model=resnet8&batch=16&steps=6',
        'backend=wasm&model=resnet8&batch=16&steps=6',
        'backend=webgl&model=resnet8&batch=16&steps=2',
      ];
const executable = chromiumPath();
if (executable === undefined) {
  process.stdout.write(
    "measure-backends: skipped: no Chromium at /usr/bin/chromium (install Debian's chromium, or set KD_CHROMIUM)\n",
  );
  process.exit(0);
}
const { server, url } = await buildAndServe(join(tmpdir(), `kd-playground-bench-${process.pid}`));
const launched = await launchChromium(executable);
try {
  for (const spec of runs) {
    const page = await launched.context.newPage();
    await page.goto(`${url}bench.html?${spec}`);
    await page.waitForFunction(
      () => (window as unknown as { kdBench: { state: string } }).kdBench.state !== 'running',
      undefined,
      { timeout: 900_000 },
    );
    const result = await page.evaluate(() => (window as unknown as { kdBench: unknown }).kdBench);
    process.stdout.write(`${spec}: ${JSON.stringify(result)}\n`);
    await page.close();
  }
} finally {
  await launched.close();
  await server.close();
}
