import { defineConfig } from 'vitest/config';

// Two projects so that unit tests never wait for the peers: only when a file of the integration
// project is selected does vitest run test/global-setup.ts (real MLflow + moto, shared by the run).
// Tests that need `inject('mlflowUrl')` / `inject('motoUrl')` belong under test/integration/.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/emulator/**', 'test/e2e/**', '**/node_modules/**'],
        },
      },
      {
        // The SageMaker emulator's own tests start their own moto and model servers.
        extends: true,
        test: {
          name: 'emulator',
          include: ['test/emulator/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        // The demo's scenario end to end on a local stack of its own (src/adapters/local-stack.ts).
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 20 * 60_000,
        },
      },
    ],
  },
});
