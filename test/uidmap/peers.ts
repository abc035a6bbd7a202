/**
 * Parent side of the two-process LMDB test: creates a map, starts
 * `peer-child.ts`, and on the child's `ready` runs the same workload as the
 * child at the same time. The child is always reaped: it exits by itself, or
 * is killed (by its pid) when the test times out or fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/util/log.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import { runWorkload, type PeerReport } from './peer-workload.js';

const CHILD = fileURLToPath(new URL('./peer-child.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 45_000;

export async function runPeers(path: string): Promise<{ parent: PeerReport; child: PeerReport }> {
  const store = await LmdbUidMapStore.open({ path, logger: silentLogger() });
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    const created = await store.open('shared.created');
    await created.assign([{ messageId: '<c1@x>', upstream: 'u', group: 'shared.created', number: 1 }], true);

    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.startsWith('ready\n')) resolve();
      });
      void exited.then((code) => reject(new Error(`peer exited early (${code}): ${stderr}`)));
    });
    await ready;
    child.stdin.write('go\n');
    const race = await store.open('shared.race');
    const startedMs = Date.now();
    const assigned = await runWorkload(race, 'parent');
    const endedMs = Date.now();
    const code = await exited;
    if (code !== 0) throw new Error(`peer failed (${code}): ${stderr}`);
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    if (line === undefined) throw new Error(`peer printed no report: ${stdout}`);
    return {
      parent: { createdValidity: created.uidValidity, raceValidity: race.uidValidity, assigned, startedMs, endedMs },
      child: JSON.parse(line) as PeerReport,
    };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await store.close();
  }
}

/**
 * Starts `peer-child.ts <path> crash`, which assigns 1,000 articles to mailbox
 * `crash`; SIGKILLs it as soon as it reports that `assign` resolved. Resolves
 * once the child is dead.
 */
export async function runCrashingPeer(path: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, 'crash'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.startsWith('done 1000\n')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`crash peer exited before reporting: ${stdout} ${stderr}`)));
    });
    await exited;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
