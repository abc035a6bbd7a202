import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs INN2 (apt) once if it is missing; each suite starts and stops its own private instance.
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // INN2 integration suites each start a private INN; keep their number bounded on 2 cores.
    maxWorkers: 2,
  },
});
