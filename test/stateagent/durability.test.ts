/**
 * Invariant 4 end to end: the agent runs as a child process
 * (`newsfront agent`, i.e. `node --import tsx src/cli.ts agent`), several clients send a
 * storm of concurrent updates, the agent is SIGKILLed mid-storm, restarted on
 * the same data, and every update that was answered 200 must be there with
 * the modseq it was answered with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FE = 'frontend-token-durability-0123';
const USER_TOKENS = ['user-token-durability-u2-0123', 'user-token-durability-u3-0123'];

interface Agent {
  child: ChildProcess;
  port: number;
}

function startChild(dir: string): Promise<Agent> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agent',
    '--listen', '127.0.0.1:0', '--data', join(dir, 'data'), '--tokens', join(dir, 'tokens'), '--log-level', 'warn'],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited ${code}: ${err}`));
    });
  });
}

function kill(a: Agent, sig: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
    a.child.once('exit', () => resolve());
    a.child.kill(sig);
  });
}

let running: Agent[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const a of running) await kill(a, 'SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  running = [];
  dirs = [];
});

describe('agent durability under SIGKILL', () => {
  it('keeps every update it answered 200, with the modseq it answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-kill-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'tokens'), `${FE} frontend fe\n${USER_TOKENS[0]} user u2\n${USER_TOKENS[1]} user u3\n`);
    const first = await startChild(dir);
    running.push(first);
    const clients = [
      { user: 'u0', token: FE }, { user: 'u1', token: FE },
      { user: 'u2', token: USER_TOKENS[0]! }, { user: 'u3', token: USER_TOKENS[1]! },
    ];
    const IN_FLIGHT = 12;
    const acked = clients.map(() => new Map<number, number>()); // uid → modseq answered
    let sent = 0;
    let failed = 0;
    let stop = false;
    const path = (user: string) => `/v1/users/${user}/mailboxes/comp.lang.misc/1700000000/flags`;
    const worker = async (c: number, lane: number) => {
      const { user, token } = clients[c]!;
      for (let i = 0; !stop; i++) {
        const uid = 1 + lane + i * IN_FLIGHT; // each UID is sent once
        sent++;
        try {
          const res = await fetch(`http://127.0.0.1:${first.port}${path(user)}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ uids: String(uid), op: 'add', flags: ['\\Seen', `$c${c}`] }),
          });
          const j = (await res.json()) as { modseq: number };
          if (res.status === 200) acked[c]!.set(uid, j.modseq);
          else failed++;
        } catch {
          failed++;
          return; // the agent is gone
        }
      }
    };
    const storm = clients.flatMap((_, c) => Array.from({ length: IN_FLIGHT }, (__, lane) => worker(c, lane)));
    // kill once a good number of updates has been acknowledged, while others are in flight
    while (acked.reduce((n, m) => n + m.size, 0) < 400) await new Promise((r) => setTimeout(r, 5));
    await kill(first, 'SIGKILL');
    stop = true;
    await Promise.all(storm);
    const total = acked.reduce((n, m) => n + m.size, 0);
    expect(total).toBeGreaterThanOrEqual(400);
    expect(failed).toBeGreaterThan(0); // some requests were cut by the kill

    const second = await startChild(dir);
    running.push(second);
    for (let c = 0; c < clients.length; c++) {
      const { user, token } = clients[c]!;
      const res = await fetch(`http://127.0.0.1:${second.port}${path(user)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const j = (await res.json()) as { highestModseq: number; flags: Record<string, string>; modseqs: Array<[number, number, number]> };
      const seen = new Set<number>();
      for (const part of (j.flags['\\Seen'] ?? '').split(',').filter(Boolean)) {
        const [lo, hi] = part.split('-').map(Number);
        for (let u = lo!; u <= (hi ?? lo!); u++) seen.add(u);
      }
      const modseqOf = (u: number) => j.modseqs.find(([lo, hi]) => lo <= u && u <= hi)?.[2] ?? 1;
      const lost = [...acked[c]!.keys()].filter((u) => !seen.has(u));
      expect(lost).toEqual([]);
      for (const [u, ms] of acked[c]!) expect(modseqOf(u)).toBe(ms);
      expect(j.flags[`$c${c}`]).toBe(j.flags['\\Seen']);
      expect(j.highestModseq).toBeGreaterThanOrEqual(acked[c]!.size + 1);
    }
    console.log(`durability: ${sent} sent, ${total} acknowledged before SIGKILL, all present after restart`);
    await kill(second, 'SIGTERM');
  });
});
