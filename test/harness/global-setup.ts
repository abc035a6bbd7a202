/**
 * vitest globalSetup: install INN2 once before any suite runs (no-op when present).
 * Wire it with `test.globalSetup: ['test/harness/global-setup.ts']` in vitest.config.ts.
 * Vitest calls the exported `setup`; there is nothing to tear down (each suite stops
 * the INN instances it started).
 */
import { ensureInnInstalled } from './install-inn.js';

export async function setup(): Promise<void> {
  const res = await ensureInnInstalled();
  if (res.installed) process.stderr.write(`global-setup: installed INN2 (${res.innd})\n`);
}

export default setup;
