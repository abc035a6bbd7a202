/**
 * Many sessions at once: throughput of N concurrent clients, and the memory
 * cost of idle sessions in the server process.
 *
 * Concurrent clients: each opens a session (connect + LOGIN + SELECT, counted
 * as one command each for LOGIN and SELECT), then runs one command at a time
 * until the deadline: UID FETCH <random uid> (ENVELOPE) or (BODY.PEEK[]), half
 * each, uids drawn by a seeded PRNG, the large article excluded (one 57 MB
 * transfer would dominate a 10 s window). Result: commands / wall seconds.
 *
 * Idle sessions: open `n` sessions (logged in, group selected) in waves of
 * IDLE_WAVE, read the server's RSS/PSS before and after (each once RSS is
 * steady), close them all. GC timing in the server still blurs the difference
 * by a few MB, i.e. a few KB per session at 1,000 sessions.
 * Every socket opened here is closed before returning.
 */
import type { RawImap } from './imap-client.js';
import { openSession } from './session.js';
import type { ProcMemory } from './server.js';
import { prng } from './prng.js';

/** Sessions opened at once while building the idle crowd: fast without a connect storm. */
const IDLE_WAVE = 50;
/** Memory is read once RSS moved less than SETTLE_DELTA_MB between samples SETTLE_MS apart (start-up work and GC done)… */
const SETTLE_MS = 1_000;
const SETTLE_DELTA_MB = 0.5;
/** …or after this long, whatever it does. */
const SETTLE_MAX_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


export interface LoadResult {
  commandsPerSecond: number;
  commands: number;
  seconds: number;
  errors: number;
}

export async function concurrentClients(opts: { port: number; mailbox: string; clients: number; seconds: number; count: number; skipUid?: number }): Promise<LoadResult> {
  const t0 = performance.now();
  const deadline = t0 + opts.seconds * 1000;
  let commands = 0;
  let errors = 0;
  const one = async (k: number): Promise<void> => {
    const rnd = prng(0x9e3779b9 ^ (k * 7919));
    const s = await openSession(opts.port, opts.mailbox);
    commands += 2;
    try {
      while (performance.now() < deadline) {
        let uid = 1 + Math.floor(rnd() * opts.count);
        if (uid === opts.skipUid) uid = uid > 1 ? uid - 1 : uid + 1;
        const what = rnd() < 0.5 ? 'ENVELOPE' : 'BODY.PEEK[]';
        const r = await s.client.command(`UID FETCH ${uid} (${what})`);
        if (r.status === 'OK') commands++;
        else errors++;
      }
    } finally {
      s.client.close();
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: opts.clients }, (_, k) => one(k)));
  errors += settled.filter((r) => r.status === 'rejected').length;
  const seconds = (performance.now() - t0) / 1000;
  return { commandsPerSecond: commands / seconds, commands, seconds, errors };
}

/** Wait until the server's RSS is steady (see SETTLE_*), then return that reading. */
async function settled(memory: () => Promise<ProcMemory>): Promise<ProcMemory> {
  const end = Date.now() + SETTLE_MAX_MS;
  let prev = await memory();
  for (;;) {
    await sleep(SETTLE_MS);
    const cur = await memory();
    if (Math.abs(cur.rssMB - prev.rssMB) < SETTLE_DELTA_MB || Date.now() > end) return cur;
    prev = cur;
  }
}

/** Peaks seen by `withMemoryPeak`, MB; `fileAtAnonPeakMB` is Pss_File in the sample of the Pss_Anon peak. */
export interface MemoryPeak {
  peakPssMB: number;
  peakRssMB: number;
  peakAnonMB: number;
  fileAtAnonPeakMB: number;
}

/** Sample `memory` every `everyMs` while `work` runs; resolves with work's result and the peaks seen. */
export async function withMemoryPeak<T>(memory: () => Promise<ProcMemory>, work: Promise<T>, everyMs = 500): Promise<{ result: T } & MemoryPeak> {
  const peak: MemoryPeak = { peakPssMB: 0, peakRssMB: 0, peakAnonMB: 0, fileAtAnonPeakMB: 0 };
  const sample = async (): Promise<void> => {
    const m = await memory().catch(() => undefined);
    if (m) {
      peak.peakPssMB = Math.max(peak.peakPssMB, m.pssMB);
      peak.peakRssMB = Math.max(peak.peakRssMB, m.rssMB);
      if (m.anonMB > peak.peakAnonMB) {
        peak.peakAnonMB = m.anonMB;
        peak.fileAtAnonPeakMB = m.fileMB;
      }
    }
  };
  const timer = setInterval(() => void sample(), everyMs);
  try {
    const result = await work;
    await sample();
    return { result, ...peak };
  } finally {
    clearInterval(timer);
  }
}

export interface IdleResult {
  sessions: number;
  before: ProcMemory;
  after: ProcMemory;
  /** (after − before) RSS / sessions, KB (10^3 bytes). */
  perSessionKB: number;
  perSessionPssKB: number;
  /** (after − before) Pss_Anon / sessions, KB. */
  perSessionAnonKB: number;
}

export async function idleSessions(opts: { port: number; mailbox: string; sessions: number; memory: () => Promise<ProcMemory> }): Promise<IdleResult> {
  // One session first so the mailbox view and code paths exist before the baseline.
  const warm = await openSession(opts.port, opts.mailbox);
  const open: RawImap[] = [warm.client];
  try {
    const before = await settled(opts.memory);
    for (let i = 0; i < opts.sessions; i += IDLE_WAVE) {
      const wave = Math.min(IDLE_WAVE, opts.sessions - i);
      const got = await Promise.allSettled(Array.from({ length: wave }, () => openSession(opts.port, opts.mailbox)));
      for (const s of got) if (s.status === 'fulfilled') open.push(s.value.client);
      const failed = got.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw new Error(`session ${open.length} of ${opts.sessions}: ${(failed.reason as Error).message}`);
    }
    const after = await settled(opts.memory);
    return {
      sessions: opts.sessions,
      before,
      after,
      perSessionKB: ((after.rssMB - before.rssMB) * 1000) / opts.sessions,
      perSessionPssKB: ((after.pssMB - before.pssMB) * 1000) / opts.sessions,
      perSessionAnonKB: ((after.anonMB - before.anonMB) * 1000) / opts.sessions,
    };
  } finally {
    for (const c of open) c.close();
  }
}
