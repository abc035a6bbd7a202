/**
 * Hostile LIST/LSUB patterns found by the line fuzzer (fuzz/run.ts, seed
 * 20261123) and narrowed down by hand. Both were bugs in
 * src/imap/commands/mailboxes.ts (fixed by `ListPattern`, a non-backtracking
 * matcher with a length limit); the old code turned the pattern into one RegExp (`%` → `[^.]*`, `*` → `.*`, everything else escaped):
 *
 * 1. A pattern of ~60,000 characters (the line limit is 64 KiB) makes
 *    `new RegExp` throw "Invalid regular expression: ... too large"; the
 *    client gets `NO [SERVERBUG]`. Expected: an ordinary answer (no match,
 *    or NO/BAD with a code) — not an internal error.
 * 2. ReDoS: `LIST "" "%%%%…"` — 100 `%` take 0.2 s, 200 take 9.3 s, 400
 *    run for minutes, and the whole process (every session) is blocked
 *    meanwhile: one line of 400 bytes denies service. Expected: linear
 *    matching (e.g. collapse runs of wildcards, or match without
 *    backtracking).
 *
 * The server runs in a child process (test/harness/child-server.ts) because
 * a blocked event loop would block the test runner too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, tagged } from '../imap/raw-client.js';
import { spawnServer, type ChildServer } from '../harness/child-server.js';

/** Far above any honest LIST time; the ReDoS case runs for minutes. */
const HANG_MS = 15_000;

describe('hostile LIST patterns', () => {
  let dir: string;
  let nf: ChildServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-listpat-'));
    writeFileSync(join(dir, 'users'), 'alice:{PLAIN}secret\n');
    // the embedded sample archive (names with '.', so `%` cannot match across them)
    nf = await spawnServer({ data: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 }, users: join(dir, 'users') });
  }, 120_000);
  afterAll(async () => {
    // the ReDoS case leaves the child spinning: no clean stop is possible
    await nf?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('short hostile patterns are answered OK', async () => {
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      for (const p of ['%'.repeat(20), '*'.repeat(1000), '('.repeat(1000), 'sample.%.%.%', '%.*.%', '\\\\']) {
        const r = await c.cmd('l', `LIST "" "${p}"`, HANG_MS);
        expect(tagged(r, 'l'), p.slice(0, 20)).toMatch(/^l OK/);
      }
    } finally {
      c.close();
    }
  });

  // Was BUG 1 (see the header): NO [SERVERBUG] from "Invalid regular expression".
  it('a 60,000-character pattern gets an ordinary answer, not NO [SERVERBUG]', async () => {
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      for (const cmd of ['LIST', 'LSUB']) {
        const r = tagged(await c.cmd('l', `${cmd} "" "${'a'.repeat(60_000)}"`, HANG_MS), 'l');
        expect(r).toMatch(/^l (OK|NO|BAD)/);
        expect(r).not.toContain('SERVERBUG');
      }
    } finally {
      c.close();
    }
  });

  // Was BUG 2 (see the header): ReDoS blocked the whole process. Runs last: it
  // leaves the child spinning; afterAll kills it.
  it('400 x "%" is answered and other sessions are not blocked', async () => {
    const other = await RawClient.connect(nf.port);
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      c.write(`l LIST "" "${'%'.repeat(400)}"\r\n`);
      // another session must still be served meanwhile
      expect(tagged(await other.cmd('n', 'NOOP', HANG_MS), 'n')).toMatch(/^n OK/);
      await c.until((t) => /(^|\r\n)l (OK|NO|BAD)/.test(t), HANG_MS);
    } finally {
      c.close();
      other.close();
    }
  }, 60_000);
});
