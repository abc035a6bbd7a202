/**
 * BODY[section] located in the prefix of an article (RFC 9051 §6.4.5), while
 * it is still being read: the answer a partial fetch needs before the whole
 * article, and so its whole structure, is in.
 *
 *   C: a1 UID FETCH 7 (BODY.PEEK[2]<0.1024>)     -- 7 is 57 MB, 60 KB of it read so far
 *   locateSection(parser.progress(), [2], '', 1024) → { start: 4711, end: 59880 }
 *
 * The structure parser (structure.ts) reads the prefix as it comes; its
 * `progress()` tells which parts are finished and which are still open, and
 * a bound no open part can end before. From that this decides, where the
 * prefix already does, what `sectionRange(wholeTree, path, text)` will give:
 * the same start, and the same end, or — for a section whose end is not read
 * yet — an end at least `want` octets after the start and never past the
 * true end, so any range of at most `want` octets from the section's start
 * (a partial <origin.length> with origin + length <= want) is the same as the
 * whole parse's. Anything the prefix leaves open (a header not read to its
 * end, a child not begun, a path that may name no part, a section that may
 * be an error) is undefined: ask again with more of the article, or wait for
 * the whole structure. Never throws; pure.
 */
import type { Frame } from './entity.js';
import type { MimePart } from './part.js';
import { childrenOf, type ByteRange, type SectionText } from './section.js';
import type { ParseProgress } from './structure.js';

type OpenFrame = Readonly<Frame>;

/**
 * The range of BODY[path.text] as far as `at` decides it (see the file
 * comment); `want`: octets from the section's start the caller needs
 * (Infinity: the whole section). `path` names a part (not empty: a section
 * of the whole message needs no structure).
 */
export function locateSection(at: ParseProgress, path: readonly number[], text: SectionText, want: number): ByteRange | undefined {
  const cur = partAtPath(at, path);
  if (cur === undefined) return undefined;
  const f = frameOf(at, cur);
  if (f !== undefined && f.state === 'header') return undefined;
  switch (text) {
    case '':
      return within(at, cur, f, want);
    case 'MIME':
      return { start: cur.headerStart, end: cur.bodyStart };
    case 'HEADER':
    case 'TEXT': {
      const msg = f === undefined ? cur.message?.body : f.kind === 'message' ? at.open.find((x) => x.owner === cur)?.part : undefined;
      if (msg === undefined) return undefined; // not a message part: an error the whole parse reports
      const mf = frameOf(at, msg);
      if (mf !== undefined && mf.state === 'header') return undefined;
      return text === 'HEADER' ? { start: msg.headerStart, end: msg.bodyStart } : within(at, msg, mf, want);
    }
    default:
      return undefined;
  }
}

/**
 * BINARY[path] (RFC 3516 §4.2) as far as `at` decides it, for a part in an
 * identity transfer encoding (7bit, 8bit, binary — or none, which is 7bit):
 * its content is then sent as is, the same octets as BODY[path], and the
 * range is as `locateSection(at, path, '', want)`'s. Undefined for a part
 * whose header is not read to its end, or that needs decoding (base64,
 * quoted-printable: its decoded length is not known before its end), or as
 * `locateSection`: the caller then waits for the whole structure.
 */
export function locateBinary(at: ParseProgress, path: readonly number[], want: number): ByteRange | undefined {
  const cur = partAtPath(at, path);
  if (cur === undefined) return undefined;
  const f = frameOf(at, cur);
  if (f !== undefined && f.state === 'header') return undefined;
  const enc = cur.encoding;
  return enc === '7BIT' || enc === '8BIT' || enc === 'BINARY' ? within(at, cur, f, want) : undefined;
}

/** The part `path` names as far as the prefix shows it; undefined when not begun yet or when it may name none. */
function partAtPath(at: ParseProgress, path: readonly number[]): MimePart | undefined {
  if (path.length === 0) return undefined;
  let cur = at.root;
  let isRoot = true;
  for (const n of path) {
    const kids = kidsOf(at, cur, isRoot);
    const next = kids !== undefined && Number.isInteger(n) && n >= 1 ? kids[n - 1] : undefined;
    if (next === undefined) return undefined; // not begun yet, or no such part: the whole parse tells
    cur = next;
    isRoot = false;
  }
  return cur;
}

/** The open entity of part `p`, or undefined when `p` is finished. */
function frameOf(at: ParseProgress, p: MimePart): OpenFrame | undefined {
  for (const f of at.open) if (f.part === p) return f;
  return undefined;
}

/**
 * The children known so far that a part number indexes into below `cur`
 * (section.ts `childrenOf` of the finished tree; an open multipart's list
 * may still grow); undefined when the header that decides is not read yet.
 */
function kidsOf(at: ParseProgress, cur: MimePart, isRoot: boolean): readonly MimePart[] | undefined {
  const f = frameOf(at, cur);
  if (f === undefined) return childrenOf(cur, isRoot);
  if (f.state === 'header') return undefined;
  if (f.kind === 'multipart') return cur.parts ?? [];
  if (f.kind === 'message' && !isRoot) {
    const inner = at.open.find((x) => x.owner === cur);
    if (inner === undefined || inner.state === 'header') return undefined;
    return inner.kind === 'multipart' ? (inner.part.parts ?? []) : [inner.part];
  }
  return isRoot ? [cur] : [];
}

/** Body range of `p` (its frame `f` when open): final when finished, else up to what is settled if that covers `want`. */
function within(at: ParseProgress, p: MimePart, f: OpenFrame | undefined, want: number): ByteRange | undefined {
  if (f === undefined) return { start: p.bodyStart, end: p.bodyEnd };
  const end = Math.max(p.bodyStart, at.settled);
  return end - p.bodyStart >= want ? { start: p.bodyStart, end } : undefined;
}
