/**
 * The Node-only part of @kd/internal (`@kd/internal/node`): kept out of the main entry so browser bundles of
 * the packages never see `node:fs`. Import it only from a package's own Node entry.
 */
export {
  TEMPORARY_FILE_PATTERN,
  commitFileSync,
  fsyncDirectorySync,
  temporaryPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
} from './atomic-write';
