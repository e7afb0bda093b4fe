import { defineConfig } from 'vitest/config';

/**
 * Test projects:
 * - `unit`: node-side unit tests beside the code (gpu-backend, shared).
 * - `parity`: the DeepCache/diffusers parity suite over the fixture directories in SD_FIXTURES.
 * - `edge`: the Workers app inside workerd (its own config in edge/).
 * - `e2e`: the local stack as real processes (edge in `wrangler dev`, GPU backend, S3 server), one stack per
 *   file, files one after another (each stack uses both cores while it starts).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: [
            'gpu-backend/**/*.test.ts',
            'shared/**/*.test.ts',
            'infra/**/*.test.ts',
            'bench/**/*.test.ts',
            'test/repository/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'parity',
          environment: 'node',
          include: ['test/parity/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      'edge/vitest.config.ts',
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // Safety nets only (tests wait on conditions); a busy machine can make a stack-bound test slow.
          testTimeout: 600_000,
          hookTimeout: 420_000,
        },
      },
    ],
  },
});
