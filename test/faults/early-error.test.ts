/**
 * Regression test (was a crash, fixed): an article stream that fails right after the
 * Source handed it over crashes the process with an uncaught 'error' event.
 *
 * Where: src/export/backend/fetch.ts `Fetch.begin()` awaits `openCreating()`
 * after `this.upstream()` resolved, and only `copy()` (started after that)
 * consumes the stream; in between, nothing listens for 'error' on it. The
 * NNTP source (src/export/nntp-source.ts `article()`) destroys its
 * PassThrough with a SourceError when the connection dies, so an upstream
 * connection cut while ARTICLE responses are arriving kills newsfront (seen
 * over INN in upstream.test.ts: "CRASH uncaughtException SourceError:
 * ARTICLE faults.one:53: connection closed: write EPIPE").
 * Expected: the FETCH answers NO [UNAVAILABLE] and the process serves on.
 * Fix idea: attach an error listener to `src` as soon as it is returned (or
 * in `article()` before returning), and fail the Fetch from it.
 *
 * The repro runs in a child process (early-error-child.ts) so the crash does
 * not take the test runner down.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./early-error-child.ts', import.meta.url));

function runChild(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

describe('an upstream article stream that fails before the copy starts', () => {
  // Was a BUG (uncaught 'error' event killed the process); fixed in src/export/backend/fetch.ts.
  it('is answered NO [UNAVAILABLE] and the process lives', async () => {
    const r = await runChild();
    expect(r.out).not.toContain('CRASH');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/RESULT c NO \[UNAVAILABLE\]/);
  });
});
