import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readPng, writePng } from './node';

describeWithBackends('@kd/plot/node', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'kd-plot-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes a PNG atomically and reads back its size and pixels', async () => {
    const data = new Uint8Array(5 * 3 * 3);
    for (let index = 0; index < data.length; index++) data[index] = (index * 37) % 256;
    const path = join(directory, 'picture.png');
    await writePng(path, { width: 5, height: 3, channels: 3, data });
    const image = await readPng(path);
    expect([image.width, image.height, image.channels]).toEqual([5, 3, 3]);
    expect(Array.from(image.data)).toEqual(Array.from(data));
    expect(await readdir(directory)).toEqual(['picture.png']); // no temp file left
  });

  it('replaces an existing file and leaves no temp file when the directory is missing', async () => {
    const path = join(directory, 'replace.png');
    await writeFile(path, 'old contents');
    await writePng(path, { width: 1, height: 1, channels: 1, data: new Uint8Array([9]) });
    expect(Array.from((await readPng(path)).data)).toEqual([9]);
    await expect(
      writePng(join(directory, 'missing', 'x.png'), { width: 1, height: 1, channels: 1, data: new Uint8Array([0]) }),
    ).rejects.toThrow(/writePng: could not write .*x\.png/);
    expect((await readdir(directory)).sort()).toEqual(['picture.png', 'replace.png']);
  });

  it('names the file when it is not a PNG', async () => {
    const path = join(directory, 'fake.png');
    await writeFile(path, 'not a png at all');
    await expect(readPng(path)).rejects.toThrow(/readPng: .*fake\.png: decodePng: not a PNG file/);
    await rm(path);
  });
});
