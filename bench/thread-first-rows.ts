/**
 * Rows of `npm run bench` for issue 11's "first THREAD of a group never seen
 * before ≤ 1 s beyond OVER" (thread-first-run.ts: fresh server, connect,
 * SELECT, `UID THREAD REFERENCES UTF-8 ALL`), each round beside INN's own
 * OVER just before it, on two INNs:
 *
 * - the bench's INN, standard overview: THREAD also needs In-Reply-To for
 *   every article without References, which INN answers to HDR by reading
 *   each article;
 * - a second INN with In-Reply-To in its overview (`extraoverviewadvertised`,
 *   docs/deploy.md), the same corpus injected: OVER brings it.
 *
 * Each row's value is the median of (connect → THREAD answered) − OVER; the
 * note splits SELECT and THREAD and gives the server's CPU.
 */
import { startInn } from '../test/harness/inn.js';
import type { Cleanup } from './cleanup.js';
import type { PreparedCorpus } from './corpus.js';
import { median, type Row } from './report.js';
import { firstThread, type FirstThread } from './thread-first-run.js';

export interface ThreadFirstInput {
  innPort: number;
  corpus: PreparedCorpus;
  rounds: number;
  add: (r: Row) => void;
  log: (m: string) => void;
  cleanup: Cleanup;
}

const SECTION = 'First THREAD of a never-seen group (fresh server, connect + SELECT + UID THREAD REFERENCES UTF-8 ALL)';

async function rows(what: string, innPort: number, i: ThreadFirstInput): Promise<void> {
  const op = `connect → THREAD answered, beyond INN's OVER, ${what}`;
  try {
    const runs: FirstThread[] = [];
    for (let k = 0; k < i.rounds; k++) runs.push(await firstThread({ innPort, group: i.corpus.group }));
    const beyond = runs.map((r) => (r.totalMs - r.overMs) / 1000);
    const mid = runs[beyond.indexOf(median(beyond))] ?? runs[0]!;
    const s = (ms: number): string => (ms / 1000).toFixed(2);
    i.add({
      section: SECTION, operation: op, unit: 's', value: median(beyond), rounds: beyond,
      upstream: median(runs.map((r) => r.overMs / 1000)), upstreamNote: 'OVER',
      note: `goal ≤ 1 s; median round: OVER ${s(mid.overMs)}, SELECT ${s(mid.selectMs)}, THREAD ${s(mid.threadMs)} s; server CPU ${mid.cpu.all.toFixed(2)} s (main thread ${mid.cpu.main.toFixed(2)}), SELECT ${mid.cpu.select.toFixed(2)}; ${mid.answerBytes} B answered`,
    });
  } catch (err) {
    i.add({ section: SECTION, operation: op, unit: 's', value: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
  }
}

export async function threadFirstRows(i: ThreadFirstInput): Promise<void> {
  i.log('thread-first: the bench INN (standard overview)');
  await rows("INN's standard overview (In-Reply-To by HDR)", i.innPort, i);
  i.log('thread-first: a second INN with In-Reply-To in its overview');
  try {
    const inn = await startInn({ groups: [i.corpus.group], extraOverview: ['In-Reply-To'] });
    i.cleanup.add('inn (In-Reply-To in overview)', () => inn.stop());
    try {
      await inn.injectBatchFile(i.corpus.batchPath, i.corpus.messageIds.map((messageId) => ({ messageId, groups: [i.corpus.group] })));
      await rows("In-Reply-To in INN's overview (docs/deploy.md)", inn.port, i);
    } finally {
      await inn.stop();
    }
  } catch (err) {
    i.add({ section: SECTION, operation: "connect → THREAD answered, In-Reply-To in INN's overview", unit: 's', value: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
  }
}
