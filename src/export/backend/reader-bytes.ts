/**
 * `MessageReader.bytes`, `MessageReader.lend`, `MessageReader.sectionRange` and `binaryRange`
 * of a group (reader.ts delegates to these): an article's bytes from the
 * article cache, given (article-cache.ts `take`) or lent (`lender`), and
 * where a part's bytes are (`sectionLocator`). Errors as reader.ts's: a UID
 * the view does not hold is NONEXISTENT; upstream failures of a download
 * become BackendErrors.
 */
import type { Readable } from 'node:stream';
import { BackendError, type ByteRange, type ByteSource, type MimePart, type SectionText } from '../interface.js';
import { locateBinary, locateSection, sectionRange } from '../../mime/index.js';
import { toBackendError } from './errors.js';
import { articleKey } from './meta-store.js';
import { carrierOf, rowAfter, upstreamOf, type ReaderDeps } from './reader-deps.js';
import { rowOf } from './table.js';
import type { ViewSnapshot } from './view.js';

function rowIn(d: ReaderDeps, t: ViewSnapshot, uid: number): number {
  const row = rowOf(t.table, uid);
  if (row < 0) throw new BackendError('NONEXISTENT', `${d.group}: no message with UID ${uid}`);
  return row;
}

const keyOf = (d: ReaderDeps, t: ViewSnapshot, row: number): string => articleKey(carrierOf(d.group, t).id, d.group, t.table.numbers[row]!);

/** See MessageReader.bytes: from the article cache (article-cache.ts `take`). */
export function takeBytes(d: ReaderDeps, uid: number, range?: ByteRange): Buffer | Promise<Buffer | ByteSource | Readable> {
  d.activity?.touch();
  const t = d.view();
  const row = rowIn(d, t, uid);
  const got = d.cache.take(keyOf(d, t, row), upstreamOf(d, t, row), range?.start ?? 0, range?.end ?? Infinity);
  if (!(got instanceof Promise)) return got;
  return got.catch((err: unknown) => {
    throw toBackendError(err, `${d.group} UID ${uid}`);
  });
}

/**
 * See MessageReader.lend: a small stored article of the article cache
 * (article-cache.ts `lend`). A function made once per reader, which a
 * handle hands out as it is: a FETCH calls it once per message, mostly
 * before V8 has optimised it, so each level of calls less counts. The row
 * of the UID lent before is tried first (a FETCH goes row by row: no
 * binary search each).
 */
export function lender(d: ReaderDeps): (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => boolean {
  let row = -1;
  return (uid, range, use) => {
    d.activity?.touch();
    const t = d.view();
    row = rowAfter(t.table, uid, row);
    if (row < 0) throw new BackendError('NONEXISTENT', `${d.group}: no message with UID ${uid}`);
    return d.cache.lend(keyOf(d, t, row), range?.start ?? 0, range?.end ?? Infinity, use);
  };
}

/** What a watched download decides from its prefix (mime locate.ts): a range, or undefined for "not yet". */
type Decide = (at: Parameters<typeof locateSection>[0]) => ByteRange | undefined;

/**
 * The two locators of a reader (a pair of functions made once per reader):
 *
 * - `section`, see MessageReader.sectionRange: from the stored structure when
 *   there is one; else, when the article is neither cached nor being read for
 *   its structure (`measuring`: `structure` joins that read), from its
 *   download (joined, or started as `structure` would) as soon as what is in
 *   decides the range (mime locate.ts, article-cache.ts `watch`); else from
 *   `structure`, as before.
 * - `binary`, see MessageReader.binaryRange: the same download watch with
 *   `locateBinary`; undefined where `section` would fall back to the structure.
 */
export function sectionLocator(
  d: ReaderDeps,
  structure: (uid: number) => Promise<MimePart>,
  measuring: (key: string) => boolean,
): {
  section: (uid: number, path: readonly number[], text: SectionText, want: number) => Promise<ByteRange>;
  binary: (uid: number, path: readonly number[], want: number) => Promise<ByteRange | undefined>;
} {
  /** The range `decide` finds in the article's download, with the stored structure (if any) for a caller that finds none. */
  const watched = async (uid: number, path: readonly number[], decide: Decide): Promise<{ got?: ByteRange; known?: MimePart }> => {
    d.activity?.touch();
    const t = d.view();
    const row = rowIn(d, t, uid);
    const key = keyOf(d, t, row);
    const known = d.meta.structure(key);
    if (known !== undefined) return { known };
    if (path.length === 0 || d.cache.has(key) || measuring(key)) return {};
    try {
      const got = await d.cache.watch(key, upstreamOf(d, t, row), decide);
      return got === undefined ? {} : { got };
    } catch (err) {
      throw toBackendError(err, `${d.group} UID ${uid}`);
    }
  };
  return {
    section: async (uid, path, text, want) => {
      const { got, known } = await watched(uid, path, (at) => locateSection(at, path, text, want));
      return got ?? sectionRange(known ?? (await structure(uid)), path, text);
    },
    binary: async (uid, path, want) => (await watched(uid, path, (at) => locateBinary(at, path, want))).got,
  };
}
