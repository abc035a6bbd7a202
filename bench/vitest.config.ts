/**
 * Unit tests of the benchmark's own pieces (raw IMAP client framing, report
 * arithmetic): `npx vitest run --config bench/vitest.config.ts`. Kept apart
 * from the main suite (test/**), which does not time anything.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
