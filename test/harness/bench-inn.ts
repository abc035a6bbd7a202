/**
 * A private INN loaded with the benchmark corpus (BENCH_CORPUS: one group of
 * 100,000 articles plus one ~57 MB article with a 40 MiB attachment).
 *
 * The corpus is streamed to an rnews batch inside the instance dir (never held in
 * memory as a whole), injected, and the batch deleted. Only small per-article facts
 * are kept. The caller stops the server (`inn.stop()`), which removes everything.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/util/log.js';
import { BENCH_CORPUS, iterateCorpus, writeRnewsBatch, type CorpusOptions } from '../corpus/generate.js';
import { startInn, type ExpectedArticle, type InnServer } from './inn.js';

export interface BenchInn {
  inn: InnServer;
  /** Articles per group in injection order (number = index + 1). */
  messageIds: Map<string, string[]>;
  /** The large article, if the corpus has one. */
  large?: { group: string; number: number; messageId: string; bytes: number };
  /** Size of the rnews batch (LF form). */
  batchBytes: number;
  generateMs: number;
  injectMs: number;
}

export async function startBenchInn(opts: { corpus?: CorpusOptions; logger?: Logger } = {}): Promise<BenchInn> {
  const corpus = opts.corpus ?? BENCH_CORPUS;
  const inn = await startInn({ groups: corpus.groups, ...(opts.logger ? { logger: opts.logger } : {}) });
  try {
    const path = join(inn.dir, 'batches', 'bench.batch');
    const expected: ExpectedArticle[] = [];
    const messageIds = new Map<string, string[]>(corpus.groups.map((g) => [g, []]));
    let large: BenchInn['large'];
    const t0 = Date.now();
    const { bytes } = await writeRnewsBatch(path, iterateCorpus(corpus), (a) => {
      expected.push({ messageId: a.messageId, groups: a.groups });
      for (const g of a.groups) messageIds.get(g)!.push(a.messageId);
      if (a.meta.kind === 'large') large = { group: a.groups[0]!, number: messageIds.get(a.groups[0]!)!.length, messageId: a.messageId, bytes: a.bytes.length };
    });
    const t1 = Date.now();
    await inn.injectBatchFile(path, expected);
    const t2 = Date.now();
    await rm(path, { force: true });
    return { inn, messageIds, ...(large ? { large } : {}), batchBytes: bytes, generateMs: t1 - t0, injectMs: t2 - t1 };
  } catch (err) {
    await inn.stop();
    throw err;
  }
}
