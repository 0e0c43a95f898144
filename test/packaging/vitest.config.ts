import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: '@kd-test/packaging',
    environment: 'node',
    include: ['src/**/*.test.ts'],
    // Packing and installing (npm and pnpm, from their caches) take most of it.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
  },
});
