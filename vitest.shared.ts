import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: tests read sibling packages from `src/` through the `@kd/source` export
 * condition, so no build is needed before `pnpm test`.
 */
export function kdVitestConfig(name: string) {
  return defineConfig({
    resolve: { conditions: ['@kd/source'] },
    ssr: { resolve: { conditions: ['@kd/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      passWithNoTests: true,
      pool: 'forks',
      poolOptions: { forks: { singleFork: true } },
    },
  });
}
