/**
 * `newsfront serve` as a process: with an archive it logs every exported group
 * with its UID range, then exits 0 on SIGTERM after closing everything.
 * The child is always killed in afterEach if a test left it running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  group?: string;
  uidFirst?: number;
  uidLast?: number;
  count?: number;
}

describe('newsfront serve', () => {
  it('exports the archive groups, then stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-cli-'));
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--archive', 'sample', '--data', dir], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = p;
    const lines: LogLine[] = [];
    let buf = '';
    const ready = new Promise<void>((resolve, reject) => {
      p.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const l = JSON.parse(buf.slice(0, nl)) as LogLine;
          buf = buf.slice(nl + 1);
          lines.push(l);
          if (l.msg.startsWith('export ready')) resolve();
        }
      });
      p.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    await ready;
    const exported = lines.filter((l) => l.msg === 'group exported');
    expect(exported.map((l) => [l.group, l.uidFirst, l.uidLast, l.count]).sort()).toEqual([ // groups are ingested concurrently
      ['sample.announce', 1, 30, 30],
      ['sample.binaries', 1, 20, 20],
      ['sample.discuss', 1, 194, 194],
      ['sample.i18n', 1, 60, 60],
    ]);
    const exit = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    p.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
