/**
 * Deterministic generator of realistic netnews (a pure function of its options):
 * plain old-style articles (7-bit, raw 8-bit Latin-1/UTF-8 without MIME), MIME
 * text in 8bit / quoted-printable / base64, multipart/alternative, mixed, nested
 * alternative-in-mixed, related-in-alternative-in-mixed, message/rfc822, RFC 2047
 * Subject/From (UTF-8 and ISO-8859-1, B and Q), folded headers, body lines starting
 * with '.', crossposts, References threads with `Re:` subjects, and optionally one
 * large article with a base64 attachment.
 *
 * Every article satisfies what rnews/INN need (see test/harness/inn.ts): CRLF line
 * ends only, no NUL, no empty header field, Path/From/Newsgroups/Subject/Message-ID/
 * Date present, Dates in the past, unique Message-IDs (the seed is part of them, so
 * corpora with different seeds can share a server).
 *
 * Usage:
 *   const corpus = generateCorpus({ seed: 1, groups: ['alt.test', 'comp.lang.misc'], perGroup: 50 });
 *   await inn.inject(corpus.map((a) => a.bytes));
 *   // article number of a in group g on a fresh server = position in articlesByGroup(corpus).get(g) + 1
 * For the benchmark corpus, stream: `await writeRnewsBatch(path, iterateCorpus(BENCH_CORPUS))`.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { crlfToLf } from '../harness/article-bytes.js';
import { buildArticle, formatDate, type ParentInfo, type Poster } from './article.js';
import type { Charset, WordEncoding } from './encode.js';
import { Prng } from './prng.js';
import { DOMAINS, FIRST_NAMES, LAST_NAMES, LATIN1_NAMES, UTF8_NAMES, type TextFlavour } from './text.js';
import type { BodyKind, CorpusArticle, CorpusOptions } from './types.js';

export type { ArticleMeta, BodyKind, CorpusArticle, CorpusOptions, PartMeta } from './types.js';

/** The benchmark corpus: one group of 100,000 articles plus one ~57 MB article (40 MiB attachment). */
export const BENCH_CORPUS: CorpusOptions = Object.freeze({
  seed: 20261123,
  groups: ['bench.big'],
  perGroup: 100_000,
  largeAttachmentBytes: 40 * 1024 * 1024,
});

/** A small corpus for integration tests (3 groups × 60 articles + crossposts). */
export const TEST_CORPUS: CorpusOptions = Object.freeze({
  seed: 1,
  groups: ['comp.lang.misc', 'alt.test', 'news.software.nntp'],
  perGroup: 60,
});

/** First article's date; articles follow ~7 minutes apart (strictly increasing, all in the past). */
const BASE_DATE_MS = Date.UTC(2015, 2, 1, 0, 0, 0);
const STEP_MS = 420_000;
/** Replies pick their parent among this many latest articles of the group. */
const THREAD_WINDOW = 40;
/** Distinct posters per corpus (realistic repetition for FROM searches). */
const POSTERS = 300;
/** base64 with 76-char lines grows data by 78/57. */
const B64_GROWTH = 78 / 57;

const KINDS: readonly (readonly [number, BodyKind])[] = [
  [45, 'plain'], [8, 'qp'], [3, 'base64-text'], [9, 'alternative'], [10, 'mixed'], [5, 'nested'], [3, 'related'], [2, 'rfc822'],
];
const FLAVOURS: readonly (readonly [number, TextFlavour])[] = [[70, 'ascii'], [12, 'latin1'], [18, 'utf8']];

function makePosters(rng: Prng): Poster[] {
  const out: Poster[] = [];
  for (let i = 0; i < POSTERS; i++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const domain = rng.pick(DOMAINS);
    const address = `${first.toLowerCase()}.${last.toLowerCase()}${i}@${domain}`;
    const enc: WordEncoding = rng.chance(0.5) ? 'Q' : 'B';
    const roll = rng.int(100);
    let p: Poster;
    if (roll < 50) p = { name: `${first} ${last}`, address, style: 'angle', charset: 'utf-8', enc };
    else if (roll < 58) p = { name: `${last}, ${first}`, address, style: 'quoted', charset: 'utf-8', enc };
    else if (roll < 70) p = { name: `${first} ${last}`, address, style: 'paren', charset: 'utf-8', enc };
    else if (roll < 78) p = { address, style: 'bare', charset: 'utf-8', enc };
    else if (roll < 88) p = { name: rng.pick(LATIN1_NAMES), address: `user${i}@${domain}`, style: 'angle', charset: rng.chance(0.6) ? 'iso-8859-1' : 'utf-8', enc };
    else if (roll < 97) p = { name: rng.pick(UTF8_NAMES), address: `user${i}@${domain}`, style: 'angle', charset: 'utf-8' as Charset, enc };
    else p = { name: rng.pick([...LATIN1_NAMES, ...UTF8_NAMES]), address: `user${i}@${domain}`, style: 'raw', charset: 'utf-8', enc };
    out.push(p);
  }
  return out;
}

/** Decoded attachment size of the large article, from the options. */
function largeAttachmentSize(opts: CorpusOptions): number | undefined {
  if (opts.largeAttachmentBytes !== undefined) return opts.largeAttachmentBytes;
  if (opts.largeArticleBytes !== undefined) return Math.ceil(opts.largeArticleBytes / B64_GROWTH);
  return undefined;
}

/**
 * Articles one at a time, in injection order. Holds only small per-group thread
 * state, so a 100k-article corpus can be streamed to disk.
 */
export function* iterateCorpus(opts: CorpusOptions): Generator<CorpusArticle> {
  if (opts.groups.length === 0) throw new Error('generateCorpus: no groups');
  const rng = new Prng(opts.seed);
  const posters = makePosters(rng);
  const crossRate = opts.groups.length > 1 ? (opts.crosspostRate ?? 0.06) : 0;
  const replyRate = opts.replyRate ?? 0.35;
  const remaining = opts.groups.map(() => opts.perGroup);
  let remainingTotal = opts.perGroup * opts.groups.length;
  const large = largeAttachmentSize(opts);
  const total = remainingTotal + (large !== undefined ? 1 : 0);
  const largeAt = large !== undefined ? Math.floor(total / 2) : -1;
  const recent = new Map<string, ParentInfo[]>();
  const idTag = (opts.seed >>> 0).toString(36);
  // up to 5 minutes later than its step; a shorter step gets less, so dates stay strictly increasing
  const jitterS = opts.dateStepMs === undefined ? 300 : Math.max(1, Math.floor(opts.dateStepMs / 2000));

  for (let index = 0; index < total; index++) {
    let g: number;
    if (index === largeAt) {
      g = 0;
    } else {
      let x = rng.int(remainingTotal);
      g = 0;
      while (x >= remaining[g]!) x -= remaining[g++]!;
      remaining[g]!--;
      remainingTotal--;
    }
    const primary = opts.groups[g]!;
    const groups = [primary];
    if (index !== largeAt && rng.chance(crossRate)) {
      const extra = rng.range(1, Math.min(2, opts.groups.length - 1));
      while (groups.length < 1 + extra) {
        const c = rng.pick(opts.groups);
        if (!groups.includes(c)) groups.push(c);
      }
    }
    const ring = recent.get(primary) ?? [];
    const parent = index !== largeAt && ring.length > 0 && rng.chance(replyRate) ? ring[ring.length - 1 - rng.int(Math.min(ring.length, THREAD_WINDOW))] : undefined;
    const poster = rng.pick(posters);
    const messageId = `<${rng.hex(8)}.${idTag}.${index.toString(36)}@${rng.pick(DOMAINS)}>`;
    const dateMs = BASE_DATE_MS + index * (opts.dateStepMs ?? STEP_MS) + rng.int(jitterS) * 1000;
    const article = buildArticle(rng, {
      index,
      messageId,
      groups,
      poster,
      dateMs,
      ...(parent ? { parent } : {}),
      kind: index === largeAt ? 'large' : rng.weighted(KINDS),
      flavour: index === largeAt ? 'ascii' : rng.weighted(FLAVOURS),
      ...(index === largeAt && large !== undefined ? { largeAttachmentBytes: large } : {}),
    });
    const info: ParentInfo = { messageId, subject: article.meta.subject, references: article.meta.references, poster, date: article.meta.date };
    for (const grp of groups) {
      const r = recent.get(grp) ?? [];
      r.push(info);
      if (r.length > THREAD_WINDOW) r.shift();
      recent.set(grp, r);
    }
    yield article;
  }
}

/** The whole corpus in memory (fine for test-sized corpora; stream the benchmark one). */
export function generateCorpus(opts: CorpusOptions): CorpusArticle[] {
  return [...iterateCorpus(opts)];
}

/** For each group, the articles filed in it, in injection order (index k ⇒ article number k+1 on a fresh server). */
export function articlesByGroup(articles: Iterable<CorpusArticle>): Map<string, CorpusArticle[]> {
  const m = new Map<string, CorpusArticle[]>();
  for (const a of articles) {
    for (const g of a.groups) {
      const l = m.get(g) ?? [];
      l.push(a);
      m.set(g, l);
    }
  }
  return m;
}

function batchEntry(a: CorpusArticle): Buffer[] {
  const lf = crlfToLf(a.bytes);
  return [Buffer.from(`#! rnews ${lf.length}\n`, 'latin1'), lf];
}

/** An rnews batch (`#! rnews <n>` + the article in LF form, per article) in memory. */
export function toRnewsBatch(articles: Iterable<CorpusArticle>): Buffer {
  const chunks: Buffer[] = [];
  for (const a of articles) chunks.push(...batchEntry(a));
  return Buffer.concat(chunks);
}

/**
 * Stream an rnews batch to `path`, one article at a time (memory stays bounded by
 * the largest article). `onArticle` sees each article before it is dropped (keep
 * what you need, e.g. messageId/groups/meta). Resolves when the file is closed.
 */
export async function writeRnewsBatch(
  path: string,
  articles: Iterable<CorpusArticle>,
  onArticle?: (a: CorpusArticle) => void,
): Promise<{ articles: number; bytes: number }> {
  const out = createWriteStream(path);
  let count = 0;
  let bytes = 0;
  try {
    for (const a of articles) {
      onArticle?.(a);
      for (const chunk of batchEntry(a)) {
        bytes += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
      count++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { articles: count, bytes };
}

export { formatDate };
