/**
 * `newsfront serve` as a process: with an archive it serves the groups over
 * IMAP (checked with imapflow), then exits 0 on SIGTERM after closing everything.
 * The child is always killed in afterEach if a test left it running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

interface LogLine {
  msg: string;
  port?: number;
}

describe('newsfront serve', () => {
  it('serves the archive over IMAP, then stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-cli-'));
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'serve', '--archive', 'sample', '--data', dir, '--listen', '127.0.0.1:0'],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = p;
    const lines: LogLine[] = [];
    let buf = '';
    const ready = new Promise<number>((resolve, reject) => {
      p.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const l = JSON.parse(buf.slice(0, nl)) as LogLine;
          buf = buf.slice(nl + 1);
          lines.push(l);
          if (l.msg === 'newsfront ready') resolve(l.port!);
        }
      });
      p.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const port = await ready;
    const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'anonymous', pass: 'x' }, logger: false });
    await client.connect();
    try {
      const names = (await client.list()).map((m) => m.path);
      expect(names).toEqual(expect.arrayContaining(['sample.announce', 'sample.binaries', 'sample.discuss', 'sample.i18n']));
      const box = await client.mailboxOpen('sample.discuss', { readOnly: true });
      expect(box.exists).toBe(194);
      expect(Number(box.uidNext)).toBe(195);
    } finally {
      await client.logout();
    }
    const exit = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    p.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
