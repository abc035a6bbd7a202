/**
 * `npm run bench -- --huge`: the 1M-article run (issue 14). Generates the
 * corpus once (cached in `.bench/` like the 100k one: a ~2.1 GB batch), starts
 * a private INN with a history sized for it, injects it (several minutes),
 * runs the rows of huge-rows.ts, prints them and writes
 * `.bench/results-huge-<time>.json`.
 *
 * Everything started is registered with the caller's `cleanup` (INN stopped
 * with `ctlinnd shutdown` by the harness, newsfront by PID).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { startInn } from '../test/harness/inn.js';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { formatLine, hugeRows } from './huge-rows.js';

/** History entries per article expected: a little room above the corpus. */
const HISTORY_HEADROOM = 1.2;

export async function runHuge(
  cacheDir: string,
  rounds: number,
  cleanup: { add(name: string, fn: () => Promise<void>): void },
  log: (m: string) => void,
): Promise<void> {
  const date = new Date().toISOString();
  const corpus = await prepareCorpus(cacheDir, corpusOptions(false, true), log);
  const count = corpus.messageIds.length;
  log(`inn: starting (history sized for ${Math.round(count * HISTORY_HEADROOM)})`);
  const inn = await startInn({ groups: [corpus.group], historySize: Math.round(count * HISTORY_HEADROOM) });
  cleanup.add('inn', () => inn.stop());
  const t0 = performance.now();
  await inn.injectBatchFile(corpus.batchPath, corpus.messageIds.map((messageId) => ({ messageId, groups: [corpus.group] })));
  const injectSeconds = (performance.now() - t0) / 1000;
  log(`inn: ${count} articles injected in ${injectSeconds.toFixed(0)} s`);
  const logDir = join(cacheDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const lines = await hugeRows({
    innPort: inn.port,
    corpus,
    rounds,
    logDir,
    log,
    onLine: (l) => log(`  → ${formatLine(l)}`),
    onServer: (s) => cleanup.add(`newsfront ${s.pid}`, () => s.stop()),
  });
  const title = `newsfront bench --huge — ${date} — node ${process.version} — ${cpus().length} cpus, ${Math.round(totalmem() / 1e9)} GB — ${count} articles in ${corpus.group}, batch ${(corpus.batchBytes / 1e9).toFixed(2)} GB — warm rows: median of ${rounds}, every round run — load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  process.stdout.write(`\n${title}\n\n${lines.map(formatLine).join('\n')}\n`);
  const path = join(cacheDir, `results-huge-${date.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, JSON.stringify({ date, node: process.version, articles: count, batchBytes: corpus.batchBytes, injectSeconds, generateSeconds: corpus.generateSeconds, lines }, null, 1));
  process.stdout.write(`\nresults: ${path}\n`);
}
