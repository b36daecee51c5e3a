import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, beside the code) and `integration` (a real kube-apiserver +
// etcd and a real oidc-provider, under test/). The integration project shares one control plane
// per run (globalSetup); each test file works in namespaces of its own, so files run in parallel.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          // test/e2e: the whole story in a real browser; same runner, its own control plane.
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/controlplane.global.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
