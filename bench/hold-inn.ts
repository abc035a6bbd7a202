/**
 * Development aid (not part of `npm run bench`): starts a private INN holding
 * the benchmark corpus and keeps it running for experiments, so a change to
 * one row can be measured without the whole bench (injection of 100k
 * articles takes ~20 s).
 *
 *   npx tsx bench/hold-inn.ts [--quick | --huge] [--irt-overview]   # prints `INN <port> <group>`, runs until stdin closes or Ctrl-C
 *
 * `--huge`: the 1,000,000-article group of `npm run bench -- --huge` (injection
 * takes several minutes; measure with `node dist/bench/huge-rows.js --port P`).
 *
 * `--irt-overview`: INN keeps In-Reply-To in its overview
 * (`extraoverviewadvertised`, docs/deploy.md), so THREAD asks no HDR.
 *
 * Stops INN with `ctlinnd shutdown` (harness `stop()`) on exit.
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInn } from '../test/harness/inn.js';
import { ensureInnInstalled } from '../test/harness/install-inn.js';
import { corpusOptions, prepareCorpus } from './corpus.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const huge = process.argv.includes('--huge');
const irtOverview = process.argv.includes('--irt-overview');
const log = (m: string): void => void process.stderr.write(`[hold-inn] ${m}\n`);
const corpus = await prepareCorpus(join(root, '.bench'), corpusOptions(quick, huge), log);
await ensureInnInstalled();
const inn = await startInn({
  groups: [corpus.group],
  ...(huge ? { historySize: Math.round(corpus.messageIds.length * 1.2) } : {}),
  ...(irtOverview ? { extraOverview: ['In-Reply-To'] } : {}),
});
let stopping: Promise<void> | null = null;
const stop = (): Promise<void> => (stopping ??= inn.stop().then(() => log('inn stopped')));
process.on('SIGINT', () => void stop().then(() => process.exit(0)));
process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
try {
  const t0 = performance.now();
  await inn.injectBatchFile(corpus.batchPath, corpus.messageIds.map((messageId) => ({ messageId, groups: [corpus.group] })));
  log(`${corpus.messageIds.length} articles injected in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} catch (err) {
  await stop();
  throw err;
}
process.stdout.write(`INN ${inn.port} ${corpus.group}\n`);
process.stdin.resume();
process.stdin.on('end', () => void stop().then(() => process.exit(0)));
