/**
 * Words, names and prose for the corpus. The vocabulary is fixed (independent of the
 * seed); the seed only decides which words are drawn. Words are drawn with a Zipf-like
 * law so a 100k-article group has words at every frequency (from most articles down
 * to a handful), as real text does — SEARCH benchmarks need both.
 */
import type { Prng } from './prng.js';

const BASE_WORDS = (
  'the of and to in is that for it as with was on be by this are or not from at which but have an they ' +
  'you one all were there can has more when will would if so no what about out up time some them other ' +
  'server client article group message thread reply kernel compiler patch release version bug report ' +
  'network protocol mailbox header body encoding charset binary archive mirror upstream download install ' +
  'config option default memory cache index search query result performance latency throughput benchmark ' +
  'linux debian ubuntu freebsd netbsd openbsd solaris windows macintosh amiga atari commodore emacs vim ' +
  'perl python ruby haskell lisp scheme fortran cobol pascal modula oberon smalltalk erlang rust golang ' +
  'question answer problem solution workaround suggestion opinion discussion flame troll moderator faq ' +
  'keyboard monitor printer modem terminal console floppy harddisk backup tape scsi ethernet router ' +
  'weather football recipe garden bicycle railway aircraft telescope camera guitar piano chess poetry ' +
  'history science physics chemistry biology astronomy mathematics geometry algebra statistics economics'
).split(' ');

const SYLLABLES = 'ka ri to mo na sel ven dra quo lin bar tes pol gri fen ush ome tal vex nir zo pe lu dor'.split(' ');

/** Latin-1-representable non-ASCII words (usable in ISO-8859-1 and UTF-8 text). */
export const LATIN1_WORDS = [
  'café', 'naïve', 'Müller', 'größe', 'déjà', 'señor', 'smörgåsbord', 'Ærøskøbing', 'façade', 'über', 'Straße',
  'crème', 'brûlée', 'jalapeño', 'résumé', 'København', 'Zürich', 'Ångström', 'niño', 'Öl', 'Käse', 'Brötchen',
];

/** Words that need UTF-8 (outside Latin-1), including a 4-byte sequence. */
export const UTF8_WORDS = [
  'Привет', 'мир', '日本語', 'テスト', 'Ελληνικά', 'Łódź', 'Škoda', 'Čeština', 'ĳssel', '€uro', 'naïve—dash', '😀', '中文', 'עברית',
];

export const FIRST_NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Ken', 'Dennis', 'Brian', 'Larry', 'Rob'];
export const LAST_NAMES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood'];
export const LATIN1_NAMES = ['Jörg Müller', 'François Lefèvre', 'Søren Kierkegård', 'José Peña', 'Zoë Dupré', 'Björn Ångström'];
export const UTF8_NAMES = ['Дмитрий Иванов', '山田太郎', 'Łukasz Żółć', 'Γιώργος Παπαδόπουλος', 'Jiří Dvořák'];
export const DOMAINS = ['example.org', 'example.net', 'example.com', 'news.example.de', 'uni-example.edu', 'isp.example.co.uk'];

function buildVocabulary(): string[] {
  const words = [...BASE_WORDS];
  const seen = new Set(words);
  // Synthetic words: all 2-syllable combinations, then 3-syllable ones, in a fixed order.
  outer: for (const a of SYLLABLES) {
    for (const b of SYLLABLES) {
      for (const c of ['', ...SYLLABLES]) {
        const w = a + b + c;
        if (!seen.has(w)) {
          seen.add(w);
          words.push(w);
        }
        if (words.length >= 4000) break outer;
      }
    }
  }
  return words;
}

/** The fixed vocabulary, most frequent first. */
export const VOCABULARY: readonly string[] = buildVocabulary();

/** Cumulative Zipf weights (s = 1.05) over VOCABULARY, for binary-search sampling. */
const CUMULATIVE: Float64Array = (() => {
  const c = new Float64Array(VOCABULARY.length);
  let t = 0;
  for (let r = 0; r < VOCABULARY.length; r++) {
    t += 1 / Math.pow(r + 1, 1.05);
    c[r] = t;
  }
  return c;
})();

export function zipfWord(rng: Prng): string {
  const x = rng.float() * CUMULATIVE[CUMULATIVE.length - 1]!;
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}

/** Which extra (non-ASCII) words a piece of text may contain. */
export type TextFlavour = 'ascii' | 'latin1' | 'utf8';

/** One word; with flavour latin1/utf8 a few percent are non-ASCII. */
export function word(rng: Prng, flavour: TextFlavour): string {
  if (flavour !== 'ascii' && rng.chance(0.06)) {
    return flavour === 'latin1' || rng.chance(0.4) ? rng.pick(LATIN1_WORDS) : rng.pick(UTF8_WORDS);
  }
  return zipfWord(rng);
}

/** A sentence of 4–16 words, capitalised, ending in punctuation. */
export function sentence(rng: Prng, flavour: TextFlavour, words: string[]): string {
  const n = rng.range(4, 16);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = word(rng, flavour);
    words.push(w);
    parts.push(w);
  }
  const s = parts.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + rng.pick(['.', '.', '.', '?', '!', ':']);
}

/** Wrap sentences into lines of at most `width` characters (words never split). */
export function wrap(sentences: string[], width = 72): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of sentences.join(' ').split(' ')) {
    if (cur.length > 0 && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur.length > 0 ? `${cur} ${w}` : w;
    }
  }
  if (cur.length > 0) lines.push(cur);
  return lines;
}

/** A paragraph: wrapped lines of 1–5 sentences. Words drawn are appended to `words`. */
export function paragraph(rng: Prng, flavour: TextFlavour, words: string[]): string[] {
  const n = rng.range(1, 5);
  const ss: string[] = [];
  for (let i = 0; i < n; i++) ss.push(sentence(rng, flavour, words));
  return wrap(ss);
}

/** A subject of 2–9 words (may contain non-ASCII words for non-ascii flavours). */
export function subjectText(rng: Prng, flavour: TextFlavour): string {
  const n = rng.range(2, 9);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(word(rng, flavour));
  // Make sure a non-ASCII flavour really yields a non-ASCII subject most of the time.
  if (flavour !== 'ascii' && rng.chance(0.7)) {
    parts[rng.int(parts.length)] = flavour === 'latin1' ? rng.pick(LATIN1_WORDS) : rng.pick([...LATIN1_WORDS, ...UTF8_WORDS]);
  }
  const s = parts.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
