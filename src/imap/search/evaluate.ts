/**
 * Which messages of the selected mailbox a search key selects (RFC 9051
 * §6.4.4): a case-insensitive substring test on text decoded to Unicode, both
 * sides folded with NFC + toLowerCase.
 *
 * Three sources of answers, the cheapest first:
 * 1. the backend's index (`MailboxHandle.search`), for SUBJECT/FROM/TO/CC/BCC,
 *    HEADER, BODY and TEXT: exact for the articles it covers, and it names
 *    those it does not (`unknown`);
 * 2. flags, UID and sequence sets: in memory;
 * 3. a scan of the rest: header data (`meta`) and article text read through the
 *    backend's planned reads — only for the messages that still need it (all
 *    of them for date and size keys, or when there is no index). A long scan
 *    tells the client how far it got (RFC 9585 `INPROGRESS`) about once a second.
 *
 * Errors: BackendError from the reads propagate (the connection maps them),
 * except one unreadable article, which is skipped (it cannot match); when no
 * article at all could be read, NO [UNAVAILABLE].
 */
import type { CommandContext } from '../command.js';
import type { SearchKey } from '../wire/search-key.js';
import { resolveSet, uidsOf } from '../sequence.js';
import { bad, no } from '../errors.js';
import { BackendError, type IndexField, type MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import { decodeHeaderValue } from '../../mime/index.js';
import { Candidate, compareDay, dayNumber, sentDay } from './candidate.js';
import type { SelectedMailbox } from '../selected.js';
import { quoted } from '../wire/encoder.js';
import { narrowObjectIds, objectIdMatches, type ObjectIdKey } from './objectid.js';

/** Meta data of a read without `needs.meta`. */
const NO_METAS: ReadonlyMap<number, MessageMeta> = new Map();
/** How often a scan reports progress (RFC 9585 INPROGRESS). */
const PROGRESS_EVERY_MS = 1000;

export const fold = (s: string): string => s.normalize('NFC').toLowerCase();

export interface SearchResult {
  /** Matching sequence numbers, ascending. */
  seqs: number[];
  /** Their UIDs, in the same order. */
  uids: number[];
  /** With a MODSEQ key: the highest MODSEQ of the matches (RFC 7162 §3.1.5), else undefined. */
  modseq: number | undefined;
}

interface Needs {
  /** Keys no index answers that need the header data (dates, sizes, an empty HEADER needle). */
  meta: boolean;
  body: boolean;
  flags: boolean;
  modseq: boolean;
  /** LARGER/SMALLER need exact sizes. */
  size: boolean;
  /** Keys an index may answer. */
  indexable: Extract<SearchKey, { type: 'header' | 'body' | 'text' }>[];
  /** EMAILID / THREADID keys (answered from `meta`; the index may narrow them: objectid.ts). */
  objectIds: ObjectIdKey[];
}

function needsOf(k: SearchKey, n: Needs): Needs {
  switch (k.type) {
    case 'header':
      if (k.value === '') n.meta = true;
      else n.indexable.push(k);
      break;
    case 'internaldate':
    case 'sentdate':
      n.meta = true;
      break;
    case 'larger':
    case 'smaller':
      n.meta = true;
      n.size = true;
      break;
    case 'body':
    case 'text':
      n.body = true;
      n.indexable.push(k);
      break;
    case 'flag':
    case 'new':
      n.flags = true;
      break;
    case 'not':
      needsOf(k.key, n);
      break;
    case 'or':
      needsOf(k.a, n);
      needsOf(k.b, n);
      break;
    case 'and':
      for (const x of k.keys) needsOf(x, n);
      break;
    case 'modseq':
      n.flags = true;
      n.modseq = true;
      break;
    case 'emailid':
    case 'threadid':
      n.meta = true;
      n.objectIds.push(k);
      break;
    default:
      break;
  }
  return n;
}

/** The index's answer for one key: hits among the covered messages, and the messages it does not cover. */
interface IndexAnswer {
  hits: Set<number>;
  unknown: Set<number>;
}

function indexField(k: Extract<SearchKey, { type: 'header' | 'body' | 'text' }>): IndexField {
  if (k.type !== 'header') return k.type;
  const f = k.field.toLowerCase();
  return f === 'subject' || f === 'from' || f === 'to' || f === 'cc' || f === 'bcc' ? f : { header: f };
}

/** Per command: resolved sets, the index's answers and the flag view. */
class Evaluation {
  private readonly sets = new Map<SearchKey, Set<number>>();
  readonly answers = new Map<SearchKey, IndexAnswer>();
  /** Per EMAILID/THREADID key the index narrowed: the only UIDs that may match. */
  readonly narrowed = new Map<SearchKey, Set<number>>();
  flags: FlagView | undefined;
  constructor(private readonly sel: SelectedMailbox) {}

  uidSet(k: Extract<SearchKey, { type: 'uid' }>): Set<number> {
    let s = this.sets.get(k);
    if (!s) this.sets.set(k, (s = new Set(resolveSet(this.sel, k.set, true, true).map((n) => this.sel.uidAt(n)))));
    return s;
  }

  seqSet(k: Extract<SearchKey, { type: 'seq' }>): Set<number> {
    let s = this.sets.get(k);
    if (!s) this.sets.set(k, (s = new Set(resolveSet(this.sel, k.set, false, true))));
    return s;
  }

  /** The index's verdict on `k` for `uid`, or undefined when it has none. */
  indexed(k: SearchKey, uid: number): boolean | undefined {
    const a = this.answers.get(k);
    if (a === undefined || a.unknown.has(uid)) return undefined;
    return a.hits.has(uid);
  }

  /**
   * `k` for one message without reading anything: undefined when some key
   * needs the header data or the text.
   */
  quick(k: SearchKey, uid: number, seq: number): boolean | undefined {
    switch (k.type) {
      case 'all':
      case 'old':
        return true;
      case 'new':
        return false;
      case 'flag':
        if (k.flag === '\\Recent') return !k.set; // no session ever sees an article as recent
        return this.flags!.has(uid, k.flag) === k.set;
      case 'uid':
        return this.uidSet(k).has(uid);
      case 'seq':
        return this.seqSet(k).has(seq);
      case 'modseq':
        return this.flags!.modseqOf(uid) >= k.modseq;
      case 'header':
      case 'body':
      case 'text':
        return this.indexed(k, uid);
      case 'emailid':
      case 'threadid':
        return this.narrowed.get(k)?.has(uid) === false ? false : undefined;
      case 'not': {
        const v = this.quick(k.key, uid, seq);
        return v === undefined ? undefined : !v;
      }
      case 'or': {
        const a = this.quick(k.a, uid, seq);
        if (a === true) return true;
        const b = this.quick(k.b, uid, seq);
        if (b === true) return true;
        return a === false && b === false ? false : undefined;
      }
      case 'and': {
        let unsure = false;
        for (const x of k.keys) {
          const v = this.quick(x, uid, seq);
          if (v === false) return false;
          if (v === undefined) unsure = true;
        }
        return unsure ? undefined : true;
      }
      default:
        return undefined;
    }
  }

  /** `k` for one candidate, reading what it must. */
  async matches(k: SearchKey, c: Candidate): Promise<boolean> {
    switch (k.type) {
      case 'header': {
        const known = this.indexed(k, c.uid);
        if (known !== undefined) return known;
        const needle = fold(k.value);
        const values = c.headerText(k.field.toLowerCase());
        if (needle === '') return values.length > 0;
        return values.some((v) => fold(v).includes(needle));
      }
      case 'body': {
        const known = this.indexed(k, c.uid);
        if (known !== undefined) return known;
        return fold(await c.bodyText()).includes(fold(k.value));
      }
      case 'text': {
        const known = this.indexed(k, c.uid);
        if (known !== undefined) return known;
        const needle = fold(k.value);
        if (c.headerFields().some((f) => fold(`${f.name}: ${decodeHeaderValue(f.value)}`).includes(needle))) return true;
        return fold(await c.bodyText()).includes(needle);
      }
      case 'internaldate':
        return compareDay(Math.floor(c.meta!.internalDate.getTime() / 86_400_000), k.op, dayNumber(k.date));
      case 'sentdate':
        return compareDay(sentDay(c), k.op, dayNumber(k.date));
      case 'emailid':
      case 'threadid':
        return objectIdMatches(k, c.meta!, this.sel);
      case 'larger':
        return c.meta!.size > k.size;
      case 'smaller':
        return c.meta!.size < k.size;
      case 'not':
        return !(await this.matches(k.key, c));
      case 'or':
        return (await this.matches(k.a, c)) || (await this.matches(k.b, c));
      case 'and':
        for (const x of k.keys) if (!(await this.matches(x, c))) return false;
        return true;
      default:
        return this.quick(k, c.uid, c.seq)!;
    }
  }
}

/**
 * Sequence numbers worth testing: the intersection of the UID and sequence
 * sets at the top level of the query (`UID 1 BODY x` looks at one article),
 * or every message.
 */
function candidates(sel: SelectedMailbox, key: SearchKey): number[] {
  const top = key.type === 'and' ? key.keys : [key];
  let set: number[] | undefined;
  for (const k of top) {
    if (k.type !== 'uid' && k.type !== 'seq') continue;
    const next = resolveSet(sel, k.set, k.type === 'uid', true);
    set = set === undefined ? next : intersect(set, next);
  }
  if (set) return set;
  const all: number[] = new Array(sel.exists);
  for (let n = 1; n <= sel.exists; n++) all[n - 1] = n;
  return all;
}

function intersect(a: number[], b: number[]): number[] {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

/** Runs `key` over the selected mailbox. */
export async function evaluateSearch(ctx: CommandContext, key: SearchKey, charset: string | undefined): Promise<SearchResult> {
  const s = ctx.session;
  const sel = s.selected!;
  if (charset !== undefined && !/^(utf-8|us-ascii)$/i.test(charset)) throw no('BADCHARSET (UTF-8 US-ASCII)', 'Unsupported charset');
  const needs = needsOf(key, { meta: false, body: false, flags: false, modseq: false, size: false, indexable: [], objectIds: [] });
  if (needs.modseq) {
    if (!ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'MODSEQ needs CONDSTORE, which needs a persistent flag store');
    s.enabled.add('CONDSTORE');
  }
  const seqs = candidates(sel, key);
  const uids = uidsOf(sel, seqs);
  const ev = new Evaluation(sel);
  // SEARCH changes no flags: one view for the whole span (a remote store pays a round trip per view)
  if (needs.flags && uids.length > 0) ev.flags = await s.flags!.view(s.flagKey(), uids[0]!, uids[uids.length - 1]!);
  await askIndex(sel, needs, uids, ev);
  if (needs.objectIds.length > 0) await narrowObjectIds(sel, ctx.server.renderCache, needs.objectIds, Uint32Array.from(uids), ev.narrowed);

  const hits = new Uint8Array(seqs.length);
  const rest: number[] = [];
  for (let i = 0; i < seqs.length; i++) {
    const v = ev.quick(key, uids[i]!, seqs[i]!);
    if (v === undefined) rest.push(i);
    else if (v) hits[i] = 1;
  }
  if (rest.length > 0) await scan(ctx, sel, key, ev, needs, seqs, uids, rest, hits);

  const out: SearchResult = { seqs: [], uids: [], modseq: undefined };
  let maxModseq = 0;
  for (let i = 0; i < seqs.length; i++) {
    if (!hits[i]) continue;
    out.seqs.push(seqs[i]!);
    out.uids.push(uids[i]!);
    if (needs.modseq) maxModseq = Math.max(maxModseq, ev.flags!.modseqOf(uids[i]!));
  }
  if (needs.modseq && out.uids.length > 0) out.modseq = maxModseq;
  return out;
}

/** The index's answers for the keys it can take; a failing index is simply not used. */
async function askIndex(sel: SelectedMailbox, needs: Needs, uids: number[], ev: Evaluation): Promise<void> {
  const index = sel.handle.search;
  if (index === undefined || needs.indexable.length === 0 || uids.length === 0) return;
  const within = Uint32Array.from(uids);
  for (const k of needs.indexable) {
    try {
      const m = await index.match([{ field: indexField(k), needle: k.value }], within);
      ev.answers.set(k, { hits: new Set(m.uids), unknown: new Set(m.unknown) });
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
    }
  }
}

/** Reads and tests the messages (`rest`: indices into seqs/uids) the quick pass could not decide. */
async function scan(
  ctx: CommandContext, sel: SelectedMailbox, key: SearchKey, ev: Evaluation, needs: Needs,
  seqs: number[], uids: number[], rest: number[], hits: Uint8Array,
): Promise<void> {
  const restUids = rest.map((i) => uids[i]!);
  let unreadable = 0;
  let read = 0;
  let done = 0;
  let lastReport = Date.now();
  // Meta is read for header keys the index could not decide as well as for date and size keys.
  const wantMeta = needs.meta || needs.indexable.length > 0;
  for await (const got of sel.handle.read(restUids, { meta: wantMeta, exactSize: needs.size, content: needs.body })) {
    const metas = got.metas ?? NO_METAS;
    for (let j = 0; j < got.uids.length; j++) {
      const i = rest[got.from + j]!;
      const uid = got.uids[j]!;
      const meta = metas.get(uid);
      done++;
      if (wantMeta && !meta) {
        unreadable++;
        continue;
      }
      try {
        if (await ev.matches(key, new Candidate(seqs[i]!, uid, meta, sel))) hits[i] = 1;
        read++;
      } catch (err) {
        // One article the upstream cannot deliver does not sink the search.
        if (!(err instanceof BackendError)) throw err;
        unreadable++;
      }
    }
    const now = Date.now();
    if (now - lastReport >= PROGRESS_EVERY_MS) {
      lastReport = now;
      await ctx.untagged(`OK [INPROGRESS (${quoted(ctx.tag).toString('latin1')} ${done} ${restUids.length})] Searching`);
    }
  }
  if (unreadable > 0 && read === 0) throw no('UNAVAILABLE', 'The articles could not be read from the upstream');
}
