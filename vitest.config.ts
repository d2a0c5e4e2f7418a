import { defineConfig } from 'vitest/config';

// Three projects: fast pure unit tests, e2e suites that start real clusters (serial, long timeouts),
// and the install suite (`make test-install`: pack, image, chart; it needs root, buildah, mmdebstrap).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'testbed/**/*.unit.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.e2e.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'install',
          include: ['e2e/install/**/*.test.ts'],
          exclude: ['**/*.unit.test.ts', 'node_modules/**'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
