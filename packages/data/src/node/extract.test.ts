import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zipSync } from 'fflate';
import { afterAll, expect, it } from 'vitest';
import { describeWithBackends } from '@kd/test-utils';
import { encodeTar } from '../__fixtures__/archives';
import { readTar } from '../tar';
import { formatBytes } from '@kd/internal';
import { extractArchive } from './extract';

const directory = mkdtempSync(join(tmpdir(), 'kd-extract-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let counter = 0;
function archiveFile(name: string, bytes: Uint8Array): { archive: string; target: string } {
  const target = join(directory, `target-${counter++}`);
  const archive = join(directory, `${counter}-${name}`);
  writeFileSync(archive, bytes);
  return { archive, target };
}

/** A tar whose first member's header claims `size` bytes (GNU base-256), with a valid header checksum. */
function tarClaiming(size: number, typeFlag = '0'): Uint8Array {
  const tar = encodeTar([{ name: 'data/big.bin', bytes: Uint8Array.of(7) }]);
  tar[124] = 0x80;
  let value = size;
  for (let index = 135; index > 124; index--) {
    tar[index] = value % 256;
    value = Math.floor(value / 256);
  }
  tar[156] = typeFlag.charCodeAt(0);
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let index = 0; index < 512; index++) sum += tar[index]!;
  tar.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return tar;
}

const zeros = new Uint8Array(5_000_000);

describeWithBackends('extractArchive limits', () => {
  it('stops a tar.gz that would extract to more than maxBytes (or 100× its size) before writing the member', async () => {
    const bomb = gzipSync(
      encodeTar([
        { name: 'data/small.bin', bytes: Uint8Array.of(1, 2) },
        { name: 'data/zeros.bin', bytes: zeros },
      ]),
    );
    expect(bomb.length).toBeLessThan(50_000);
    for (const maxBytes of [1_000_000, undefined]) {
      const { archive, target } = archiveFile('bomb.tar.gz', bomb);
      const cap = formatBytes(maxBytes ?? 100 * bomb.length);
      await expect(
        extractArchive({ archive, directory: target, folder: 'data', ...(maxBytes === undefined ? {} : { maxBytes }) }),
      ).rejects.toThrow(
        `extractArchive: ${archive.split('/').pop()}: member 'data/zeros.bin' would bring the extracted size to 5.0 MB, more than the ${cap} this archive may extract to (the maxBytes option)`,
      );
      expect(readdirSync(target)).toEqual([]);
    }
    const { archive, target } = archiveFile('fits.tar.gz', bomb);
    const folder = await extractArchive({ archive, directory: target, folder: 'data', maxBytes: 5_000_002 });
    expect(readFileSync(join(folder, 'zeros.bin')).length).toBe(5_000_000);
    await expect(extractArchive({ archive, directory: target, folder: 'data', maxBytes: -1 })).rejects.toThrow(
      'extractArchive: maxBytes must be a positive integer, got -1',
    );
  });

  it('streams zip members to disk byte-exactly, and stops a zip bomb the same way', async () => {
    const payload = Uint8Array.from({ length: 30_000 }, (_, index) => (index * 31) % 251);
    const zip = zipSync({ 'data/a.bin': payload, 'data/sub/zeros.bin': zeros, 'data/empty/': new Uint8Array(0) });
    const fits = archiveFile('ok.zip', zip);
    const folder = await extractArchive({
      archive: fits.archive,
      directory: fits.target,
      folder: 'data',
      maxBytes: 6_000_000,
    });
    expect(new Uint8Array(readFileSync(join(folder, 'a.bin')))).toEqual(payload);
    expect(readFileSync(join(folder, 'sub', 'zeros.bin')).equals(Buffer.from(zeros))).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(['a.bin', 'empty', 'sub']);

    const bomb = archiveFile('bomb.zip', zip);
    await expect(extractArchive({ archive: bomb.archive, directory: bomb.target, folder: 'data' })).rejects.toThrow(
      `member 'data/sub/zeros.bin' would bring the extracted size to 5.0 MB, more than the`,
    );
    expect(readdirSync(bomb.target)).toEqual([]);

    for (const [index, cut] of [Math.floor(zip.length / 2), zip.length - 30].entries()) {
      const truncated = archiveFile(`cut${index}.zip`, zip.subarray(0, cut));
      await expect(
        extractArchive({
          archive: truncated.archive,
          directory: truncated.target,
          folder: 'data',
          maxBytes: 6_000_000,
        }),
      ).rejects.toThrow(new RegExp(`cut${index}\\.zip: truncated (or corrupt )?zip archive`));
      expect(existsSync(truncated.target) ? readdirSync(truncated.target) : []).toEqual([]);
    }
    const damaged = zip.slice();
    // Inside the compressed data of the zeros member, after its local header.
    const at = Buffer.from(zip).indexOf('data/sub/zeros.bin') + 200;
    for (let index = at; index < at + 40; index++) damaged[index] = damaged[index]! ^ 0x5a;
    const corrupt = archiveFile('bad.zip', damaged);
    await expect(
      extractArchive({ archive: corrupt.archive, directory: corrupt.target, folder: 'data', maxBytes: 6_000_000 }),
    ).rejects.toThrow(/bad\.zip: (truncated or )?corrupt zip archive/);
    expect(existsSync(corrupt.target) ? readdirSync(corrupt.target) : []).toEqual([]);
  });

  it('rejects a tar header claiming 2^40 bytes before allocating or writing anything', async () => {
    const huge = tarClaiming(2 ** 40);
    expect(() => readTar({ bytes: huge, archiveName: 'huge.tar' })).toThrow(
      "huge.tar: truncated or corrupt tar archive: member 'data/big.bin' claims 1.1 TB, the whole archive is 2.0 kB",
    );
    const { archive, target } = archiveFile('huge.tar', huge);
    await expect(extractArchive({ archive, directory: target, folder: 'data', maxBytes: 1e9 })).rejects.toThrow(
      "member 'data/big.bin' would bring the extracted size to 1.1 TB, more than the 1.0 GB this archive may extract to",
    );
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
    for (const flag of ['L', 'x']) {
      expect(() => readTar({ bytes: tarClaiming(2 ** 40, flag), archiveName: 'meta.tar' })).toThrow(
        'meta.tar: corrupt tar archive: a metadata record at offset 0 claims 1.1 TB (at most 1.0 MB)',
      );
    }
  });
});
