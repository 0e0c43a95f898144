import { defineConfig, mergeConfig } from 'vitest/config';
import { kdVitestConfig } from '../../vitest.shared';

// The browser end-to-end test (e2e/) builds the app and drives Chromium: give it room.
export default mergeConfig(
  kdVitestConfig('@kd-example/browser'),
  defineConfig({
    test: { include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 300_000 },
  }),
);
