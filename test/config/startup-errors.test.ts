/**
 * Start-up errors follow the configuration contract (README "Configuration",
 * src/app/config/load.ts): a users file with a bad line, a missing users file,
 * an archive directory that is not there (or not a directory) and unreadable
 * TLS files stop `newsfront serve` (and `ingest`, for the archive) with one
 * line on stderr naming the file (and line), and exit status 2.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../harness/cli-run.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-startup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const serve = (...more: string[]): string[] => ['serve', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', ...more];

/** Run the CLI to its end (killed after 20 s if it started serving instead). */
const run = (args: string[]): Promise<CliResult> => runCli(args, { killAfterMs: 20_000 });

/** Exit 2 and exactly one line on stderr, returned. */
function oneLine(r: CliResult): string {
  expect(r.code).toBe(2);
  const lines = r.err.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('start-up errors exit 2 with one line', () => {
  it('a users file with a bad line names the file and the line', async () => {
    const users = join(dir, 'users');
    await writeFile(users, '# users\nalice:{PLAIN}pw\nbob:{MD5}abc\n');
    const line = oneLine(await run(serve('--archive', 'sample', '--users', users)));
    expect(line).toContain(`${users}:3:`);
    expect(line).toMatch(/^config: users: /);
    expect(line).toContain('{MD5}');
  });

  it('a users file that cannot be read names the file', async () => {
    const users = join(dir, 'missing-users');
    const line = oneLine(await run(serve('--archive', 'sample', '--users', users)));
    expect(line).toMatch(/^config: users: /);
    expect(line).toContain(users);
    expect(line).toContain('ENOENT');
  });

  it('an archive directory that does not exist, or is a file, refuses serve and ingest', async () => {
    const line = oneLine(await run(serve('--archive', join(dir, 'nonexistent'))));
    expect(line).toMatch(/^config: archive: /);
    expect(line).toContain(join(dir, 'nonexistent'));
    await writeFile(join(dir, 'plain-file'), 'x');
    expect(oneLine(await run(serve('--archive', join(dir, 'plain-file'))))).toMatch(/^config: archive: .*plain-file.*not a directory/);
    expect(oneLine(await run(['ingest', '--data', join(dir, 'data'), '--archive', join(dir, 'nonexistent')]))).toMatch(/^config: archive: /);
  });

  it('a TLS certificate that cannot be read names the key and the file', async () => {
    const cfg = join(dir, 'config.json');
    await writeFile(cfg, JSON.stringify({ tls: { cert: join(dir, 'no-cert.pem'), key: join(dir, 'no-key.pem') } }));
    const line = oneLine(await run(serve('--archive', 'sample', '--config', cfg)));
    expect(line).toMatch(/^config: tls\.cert: /);
    expect(line).toContain('no-cert.pem');
  });
});
