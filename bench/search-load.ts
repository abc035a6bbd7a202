/**
 * The issue-11 load row of `npm run bench`: 1,000 sessions on one front-end
 * whose body index is complete, the load-sessions.ts mix (FETCH ENVELOPE /
 * BODY.PEEK[] / UID SEARCH SUBJECT|FROM|BODY word / STORE / FETCH FLAGS /
 * NOOP) with every SEARCH over the whole group — no `--search-window`: the
 * index, not a narrowed range, has to carry it. Sessions open first, then the
 * window is timed. Rows: commands/s (errors by cause, server CPU, load
 * average), and the SEARCH latency (mean, p99 per key).
 */
import { loadavg } from 'node:os';
import { runSessions } from './load-sessions.js';
import type { Row } from './report.js';

/** Sessions of the row. */
export const SEARCH_LOAD_SESSIONS = 1000;

export interface SearchLoadInput {
  port: number;
  mailbox: string;
  seconds: number;
  /** The server's CPU seconds so far (user + system). */
  cpuSeconds: () => Promise<number>;
  add: (r: Row) => void;
  section: string;
}

export async function searchLoadRows(i: SearchLoadInput): Promise<void> {
  const n = SEARCH_LOAD_SESSIONS.toLocaleString('en-US');
  const op = `${n} sessions, SEARCH over the whole group from the index (no --search-window), commands/s`;
  let cpu0 = 0;
  try {
    const r = await runSessions({
      ports: [i.port], mailbox: i.mailbox, sessions: SEARCH_LOAD_SESSIONS, seconds: i.seconds, seed: 1733, openFirst: true,
      onWindow: async () => {
        cpu0 = await i.cpuSeconds();
      },
    });
    const cpu = (await i.cpuSeconds()) - cpu0;
    const errors = Object.entries(r.errorKinds).map(([k, v]) => `${k} ×${v}`).join(', ');
    i.add({
      section: i.section, operation: op, unit: 'cmd/s', value: r.commandsPerSecond,
      note: `${r.commands} commands in ${r.seconds.toFixed(1)} s after ${r.openSeconds?.toFixed(1) ?? '?'} s opening the sessions; ${r.errorCount} errors${errors ? ` (${errors})` : ''}; ${r.byKind['search'] ?? 0} SEARCHes; server CPU ${cpu.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`,
    });
    const s = r.latency['search'];
    const keys = Object.entries(r.latency).filter(([k]) => k.startsWith('search ')).map(([k, l]) => `${k.slice(7)} mean ${l.meanMs} / p99 ${l.p99Ms}`).join(', ');
    i.add({
      section: i.section, operation: `${n} sessions, UID SEARCH latency under that load (mean)`, unit: 'ms', value: s ? s.meanMs : 'n/a: no SEARCH answered',
      note: s ? `p99 ${s.p99Ms} ms, max ${s.maxMs} ms; by key (ms): ${keys}; every command p50 ${r.p50Ms} / p99 ${r.p99Ms} ms` : '',
    });
  } catch (err) {
    i.add({ section: i.section, operation: op, unit: 'cmd/s', value: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
  }
}
