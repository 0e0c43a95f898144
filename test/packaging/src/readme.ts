/**
 * README snippets: every fenced `ts`/`js` block of a README runs as written after the install line above it
 * (the nearest earlier ```sh block with `npm i …`/`npm install …`), unless the line before its fence says why
 * it cannot: `<!-- readme-test: skip: downloads CIFAR-100 (161 MB) -->`.
 */
import { builtinModules } from 'node:module';

/** An `npm i` line of a README: the package specs it installs (`@kd/cam`, `@tensorflow/tfjs@4.22.0`). */
export interface InstallLine {
  line: number;
  specs: string[];
}

export interface Snippet {
  /** README path, for messages. */
  readme: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  code: string;
  /** Why the snippet is not run (it is still checked against its install line). */
  skip?: string;
  install?: InstallLine;
}

const SKIP = /^<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->$/;
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts']);
const INSTALL = /^\s*(?:\$\s*)?npm\s+(?:i|install|add)\s+(.+)$/;

/** The snippets of one README, each with the install line in force at its position. */
export function parseReadme(readme: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let install: InstallLine | undefined;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (fence === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const language = fence[1]!.toLowerCase();
    if (language === 'sh' || language === 'bash' || language === 'shell') {
      for (const [offset, command] of body.entries()) {
        const match = INSTALL.exec(command);
        if (match === null) continue;
        const specs = match[1]!
          .replace(/#.*$/, '')
          .trim()
          .split(/\s+/)
          .filter((word) => !word.startsWith('-'));
        install = { line: start + 2 + offset, specs };
      }
    } else if (RUNNABLE.has(language)) {
      const skip = SKIP.exec((lines[start - 1] ?? '').trim())?.[1];
      snippets.push({ readme, line: start + 1, language, code: `${body.join('\n')}\n`, skip, install });
    }
  }
  return snippets;
}

/** `@scope/name@1.2.3` → `@scope/name`; `name@^1` → `name`. */
export function packageOfSpec(spec: string): string {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  return at === -1 ? spec : spec.slice(0, at);
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageOfSpecifier(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The packages a snippet imports (static, type-only, side-effect and dynamic imports, re-exports, require),
 * without Node's builtins and relative paths.
 */
export function importedPackages(code: string): string[] {
  const specifiers = [
    ...code.matchAll(/\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s+['"]([^'"]+)['"]/g),
    ...code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!);
  const builtins = new Set(builtinModules);
  const packages = specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:'))
    .map(packageOfSpecifier)
    .filter((name) => !builtins.has(name));
  return [...new Set(packages)].sort();
}

/**
 * What is wrong with a snippet before it runs: no install line above it, or imports of packages its install line
 * does not install (with pnpm's strict layout only the packages named there can be imported).
 */
export function installProblems(snippet: Snippet): string[] {
  const where = `${snippet.readme}:${snippet.line}`;
  const imports = importedPackages(snippet.code);
  if (snippet.install === undefined) {
    if (imports.length === 0) return [];
    return [`${where}: no \`npm i\` line above the snippet, which imports ${imports.join(', ')}`];
  }
  const installed = new Set(snippet.install.specs.map(packageOfSpec));
  return imports
    .filter((name) => !installed.has(name))
    .map(
      (name) =>
        `${where}: imports ${name}, which its install line (line ${snippet.install!.line}: npm i ${snippet.install!.specs.join(
          ' ',
        )}) does not install`,
    );
}
