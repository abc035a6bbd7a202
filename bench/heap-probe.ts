/**
 * What a bench server's memory is made of, for the development aids that ask
 * (bench/memory.ts, `huge-rows.ts --probe`): the anonymous mappings of
 * /proc/PID/smaps split by kind (glibc's main arena `[heap]`, its thread
 * arenas, stacks, the rest: V8's pages and big buffers), V8's own figures
 * after a forced major GC and a heap snapshot, both answered by
 * bench/soak-probe.ts loaded into the server (`PROBE_NODE_FLAGS`, an IPC
 * channel), and glibc's free memory given back with gdb (`mallocTrim`).
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerProcess } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Node flags that load the probe (with `ipc: true` in startServer). */
export const PROBE_NODE_FLAGS = ['--expose-gc', '--import', join(here, 'soak-probe.js')];

/** Anonymous resident memory of `pid` by kind of mapping, MB (from /proc/PID/smaps). */
export async function anonSplit(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/smaps`, 'latin1');
  type Map = { lo: bigint; hi: bigint; perms: string; name: string; anon: number };
  const maps: Map[] = [];
  for (const line of text.split('\n')) {
    const h = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (h) maps.push({ lo: BigInt(`0x${h[1]}`), hi: BigInt(`0x${h[2]}`), perms: h[3]!, name: h[4]!, anon: 0 });
    const a = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (a && maps.length > 0) maps[maps.length - 1]!.anon = Number(a[1]) * 1024;
  }
  const ARENA = 64n << 20n;
  const out: Record<string, number> = { mallocMainArena: 0, mallocThreadArenas: 0, stacks: 0, other: 0 };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.anon === 0) continue;
    let kind = 'other';
    if (m.name === '[heap]') kind = 'mallocMainArena';
    else if (m.name === '[stack]') kind = 'stacks';
    else if (m.name === '' && m.lo % ARENA === 0n) {
      // a glibc thread arena: 64 MB reserved, used from its start, the rest PROT_NONE
      const next = maps[i + 1];
      const end = next && next.lo === m.hi && next.perms.startsWith('---') ? next.hi : m.hi;
      if (end - m.lo === ARENA) kind = 'mallocThreadArenas';
    } else if (m.name === '' && i > 0 && maps[i - 1]!.perms.startsWith('---') && maps[i - 1]!.hi === m.lo && maps[i - 1]!.hi - maps[i - 1]!.lo <= 65536n && m.hi - m.lo >= 8n << 20n) kind = 'stacks';
    out[kind]! += m.anon / 1e6;
  }
  return out;
}

/** Asks the probe in the server (soak-probe.ts) for `msg`; resolves with its answer of `kind`, rejects after `timeoutMs`. */
export function probe<T>(s: ServerProcess, msg: unknown, kind: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`probe: no ${kind} answer in ${timeoutMs} ms`)), timeoutMs);
    const on = (m: unknown): void => {
      if ((m as { kind?: string }).kind !== kind) return;
      clearTimeout(timer);
      s.child.off('message', on);
      res(m as T);
    };
    s.child.on('message', on);
    s.child.send(msg as never);
  });
}

/** V8's figures after a forced major GC (bytes): heapUsed, heapTotal, external, arrayBuffers, newSpace, malloced, rss. */
export function v8AfterGc(s: ServerProcess): Promise<Record<string, number>> {
  return probe<Record<string, number>>(s, 'sample', 'sample');
}

/** Writes a heap snapshot (after a forced GC) to `path`; resolves with the path written (a 700 MB heap takes minutes on a busy machine). */
export async function heapSnapshot(s: ServerProcess, path: string): Promise<string> {
  return (await probe<{ path: string }>(s, { snapshot: path }, 'snapshot', 900_000)).path;
}

/**
 * Has glibc print its arenas (`malloc_stats`, to the server's stderr) and give
 * free memory back to the system (`malloc_trim(0)`), through gdb attached for
 * a moment. Changes what the process holds: measure before, then after.
 */
export function mallocTrim(pid: number): void {
  execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'call (void)malloc_stats()', '-ex', 'call (int)malloc_trim(0)'], { stdio: 'ignore' });
}
