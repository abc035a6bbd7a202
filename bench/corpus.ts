/**
 * The benchmark corpus as a cached rnews batch file.
 *
 * `prepareCorpus` streams the deterministic corpus (test/corpus/generate.ts) to
 * `<cacheDir>/corpus-<key>.batch` and writes a sidecar `corpus-<key>.json` with
 * what the benchmark needs afterwards (Message-IDs in injection order, the
 * large article, search words with about 1% hits). The key holds
 * CORPUS_FORMAT and every corpus option, so a changed generator option makes a
 * new file; both files are written under a temporary name and renamed, so an
 * interrupted run never leaves a half batch that looks complete.
 *
 * Memory: one article at a time, plus the Message-IDs, subjects and From
 * values (≈ 30 MB for 100k articles, ≈ 300 MB for the --huge corpus). The caller owns the files (they stay for the next run).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_CORPUS, iterateCorpus, writeRnewsBatch, type CorpusOptions } from '../test/corpus/generate.js';

/** Bump when the sidecar layout or the way words are chosen changes. */
export const CORPUS_FORMAT = 4;

/** Articles of the --huge corpus (issue 14: "costs grow linearly" at 1M). */
export const HUGE_ARTICLES = 1_000_000;

/**
 * The full benchmark corpus (TARGETS.md), the --quick one, and the --huge one:
 * one group (`bench.huge`, so a data dir never mixes it with the 100k group) of
 * HUGE_ARTICLES articles from the same generator at the same article sizes
 * (~2.1 KB each: a ~2.1 GB batch, and as much again in INN's spool), without
 * the large article (its rows are the 100k bench's).
 */
export function corpusOptions(quick: boolean, huge = false): CorpusOptions {
  // dates 2 minutes apart (2015-03 to 2018-12): 7 minutes would date the last ~120k articles in the future, which INN refuses
  if (huge) return { seed: BENCH_CORPUS.seed, groups: ['bench.huge'], perGroup: HUGE_ARTICLES, dateStepMs: 120_000 };
  return quick ? { ...BENCH_CORPUS, perGroup: 10_000, largeAttachmentBytes: 5 * 1024 * 1024 } : { ...BENCH_CORPUS };
}

export interface SearchWord {
  word: string;
  /** Articles whose field contains the word (case-insensitive substring, as IMAP SEARCH). */
  hits: number;
}

export interface PreparedCorpus {
  batchPath: string;
  group: string;
  /** Message-IDs in injection order (article number = index + 1 on a fresh INN). */
  messageIds: string[];
  large?: { number: number; messageId: string; bytes: number; attachmentBytes: number };
  batchBytes: number;
  articleBytes: number;
  subjectWord: SearchWord;
  /** hits counts articles whose decoded text parts contain the word as a drawn word (a lower bound for a substring search). */
  bodyWord: SearchWord;
  /** A body word in about 40% of the articles (issue 11's "common word" row); hits as for bodyWord. */
  commonBodyWord: SearchWord;
  /** A word of the From headers (local part or name) in about 1% of the articles; hits count substring matches of the decoded From. */
  fromWord: SearchWord;
  /** Seconds spent generating (0 when the cache was used). */
  generateSeconds: number;
}

type Sidecar = Omit<PreparedCorpus, 'batchPath' | 'generateSeconds'>;

/** Target share of articles for the SEARCH words (TARGETS.md used ~1.2% and ~1.1%). */
const SEARCH_SHARE = 0.01;
/** Words shorter than this match too much as substrings. */
const MIN_WORD = 5;

function corpusKey(o: CorpusOptions): string {
  const step = o.dateStepMs !== undefined ? [`step${o.dateStepMs}`] : [];
  return [`v${CORPUS_FORMAT}`, o.seed, o.groups.join('+'), o.perGroup, o.largeAttachmentBytes ?? o.largeArticleBytes ?? 0, ...step].join('-');
}

/** The word among `counts` whose count is closest to `target`, ties broken by the word. */
function closest(counts: Map<string, number>, target: number): SearchWord {
  let best: SearchWord = { word: '', hits: -1 };
  for (const [word, hits] of counts) {
    const d = Math.abs(hits - target);
    const bd = Math.abs(best.hits - target);
    if (best.hits < 0 || d < bd || (d === bd && word < best.word)) best = { word, hits };
  }
  return best;
}

function words(s: string): Set<string> {
  // Whole words only (a letter run cut at a non-ASCII letter, like "ngstr" from "Längstr", is no word).
  return new Set(s.toLowerCase().match(/\p{L}+/gu)?.filter((w) => w.length >= MIN_WORD && /^[a-z]+$/.test(w)) ?? []);
}

/** Delete cached files of other CORPUS_FORMAT versions of the same options (a full batch is ~270 MB). */
async function removeStale(cacheDir: string, key: string): Promise<void> {
  const rest = key.slice(key.indexOf('-'));
  for (const f of await readdir(cacheDir)) {
    const m = /^corpus-(v\d+)(-.*)\.(batch|json)$/.exec(f);
    if (m && m[2] === rest && `${m[1]}${m[2]}` !== key) await rm(join(cacheDir, f), { force: true });
  }
}

/** Generate (or reuse) the batch file and its sidecar for `opts` under `cacheDir`. */
export async function prepareCorpus(cacheDir: string, opts: CorpusOptions, log: (msg: string) => void): Promise<PreparedCorpus> {
  if (opts.groups.length !== 1) throw new Error('bench corpus: exactly one group expected');
  const key = corpusKey(opts);
  const batchPath = join(cacheDir, `corpus-${key}.batch`);
  const sidePath = join(cacheDir, `corpus-${key}.json`);
  if (existsSync(batchPath) && existsSync(sidePath)) {
    const side = JSON.parse(await readFile(sidePath, 'utf8')) as Sidecar;
    log(`corpus: using cached ${batchPath}`);
    return { ...side, batchPath, generateSeconds: 0 };
  }
  await mkdir(cacheDir, { recursive: true });
  log(`corpus: generating ${opts.perGroup} articles into ${batchPath} …`);
  const t0 = performance.now();
  const messageIds: string[] = [];
  const subjects: string[] = [];
  const bodyCounts = new Map<string, number>();
  const subjectCounts = new Map<string, number>();
  const froms: string[] = [];
  const fromCounts = new Map<string, number>();
  let large: PreparedCorpus['large'];
  let articleBytes = 0;
  const tmp = `${batchPath}.tmp-${process.pid}`;
  const written = writeRnewsBatch(tmp, iterateCorpus(opts), (a) => {
    messageIds.push(a.messageId);
    articleBytes += a.bytes.length;
    if (a.meta.kind === 'large') {
      const att = opts.largeAttachmentBytes ?? 0;
      large = { number: messageIds.length, messageId: a.messageId, bytes: a.bytes.length, attachmentBytes: att };
      subjects.push('');
      return;
    }
    subjects.push(a.meta.subject.toLowerCase());
    froms.push(a.meta.from.toLowerCase());
    for (const w of words(a.meta.from)) fromCounts.set(w, (fromCounts.get(w) ?? 0) + 1);
    for (const w of words(a.meta.subject)) subjectCounts.set(w, (subjectCounts.get(w) ?? 0) + 1);
    for (const w of new Set(a.meta.bodyWords.map((x) => x.toLowerCase()))) {
      if (w.length >= MIN_WORD && /^[a-z]+$/.test(w)) bodyCounts.set(w, (bodyCounts.get(w) ?? 0) + 1);
    }
  });
  const { bytes } = await written.catch(async (err: unknown) => {
    await rm(tmp, { force: true });
    throw err;
  });
  const target = messageIds.length * SEARCH_SHARE;
  // Subject: count real substring hits for the candidates near the target, then pick.
  const near = [...subjectCounts].filter(([, n]) => n > target / 3 && n < target * 3).map(([w]) => w);
  const substringCounts = new Map<string, number>();
  for (const w of near) substringCounts.set(w, subjects.reduce((n, s) => n + (s.includes(w) ? 1 : 0), 0));
  const subjectWord = closest(substringCounts.size > 0 ? substringCounts : subjectCounts, target);
  const bodyWord = closest(bodyCounts, target);
  const commonBodyWord = closest(bodyCounts, messageIds.length * 0.4);
  const nearFrom = [...fromCounts].filter(([, n]) => n > target / 3 && n < target * 3).map(([w]) => w);
  const fromSubstring = new Map<string, number>();
  for (const w of nearFrom) fromSubstring.set(w, froms.reduce((n, f) => n + (f.includes(w) ? 1 : 0), 0));
  const fromWord = closest(fromSubstring.size > 0 ? fromSubstring : fromCounts, target);
  const side: Sidecar = {
    group: opts.groups[0]!,
    messageIds,
    ...(large ? { large } : {}),
    batchBytes: bytes,
    articleBytes,
    subjectWord,
    bodyWord,
    commonBodyWord,
    fromWord,
  };
  await writeFile(`${sidePath}.tmp-${process.pid}`, JSON.stringify(side));
  await rename(tmp, batchPath);
  await rename(`${sidePath}.tmp-${process.pid}`, sidePath);
  await removeStale(cacheDir, key);
  const generateSeconds = (performance.now() - t0) / 1000;
  log(`corpus: ${messageIds.length} articles, ${(bytes / 1e6).toFixed(0)} MB batch in ${generateSeconds.toFixed(1)} s`);
  return { ...side, batchPath, generateSeconds };
}
