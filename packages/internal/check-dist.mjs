// Run by each published package's `lint` script after its build: @kd/internal is private and bundled by tsup,
// so no file of the package's dist/ may import or reference it, nor its Node-only entry `@kd/internal/node`
// (a published import would fail to install). Every folder of dist/ is searched.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const dist = join(process.cwd(), 'dist');
const offenders = readdirSync(dist, { recursive: true, encoding: 'utf8' })
  .filter((name) => /\.(c?js|mjs|d\.[cm]?ts)$/.test(name))
  .filter((name) => readFileSync(join(dist, name), 'utf8').includes('@kd/internal'))
  .map((name) => relative(dist, join(dist, name)));
if (offenders.length > 0) {
  console.error(
    `check-dist: dist/ of ${process.cwd()} references @kd/internal in ${offenders.join(', ')}; bundle it (tsup noExternal)`,
  );
  process.exit(1);
}
console.log('check-dist: no reference to @kd/internal in dist/');
