/**
 * Archive member names, made safe to join to an extraction directory: absolute paths, drive letters and
 * `..` segments that climb above the target are rejected (the "zip slip" attack).
 */

/** The normalised relative path of `name` (segments joined by '/'), or an Error naming the archive and member. */
export function safeRelativePath({ name, archiveName }: { name: string; archiveName: string }): string {
  if (name.length === 0) throw new Error(`${archiveName}: archive member with an empty name`);
  if (name.includes('\0')) throw new Error(`${archiveName}: member '${name}' contains a NUL byte`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
    throw new Error(
      `${archiveName}: member '${name}' has an absolute path; refusing to extract outside the target directory`,
    );
  }
  const segments: string[] = [];
  for (const segment of name.split(/[/\\]/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0)
        throw new Error(`${archiveName}: member '${name}' escapes the target directory with '..'`);
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return segments.join('/');
}
