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
 * Only the messages an index answer leaves open are looked at (scope.ts
 * `narrowing`): a rare word costs its hits, not the size of the mailbox.
 *
 * Errors: BackendError from the reads propagate (the connection maps them),
 * except one unreadable article, which is skipped (it cannot match); when no
 * article at all could be read, NO [UNAVAILABLE].
 */
import type { CommandContext } from '../command.js';
import type { SearchKey } from '../wire/search-key.js';
import { resolveSet } from '../sequence.js';
import { bad, no } from '../errors.js';
import { BackendError, type IndexField, type MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import { decodeHeaderValue } from '../../mime/index.js';
import { Candidate, compareDay, dayNumber, sentDay } from './candidate.js';
import type { SelectedMailbox } from '../selected.js';
import { quoted } from '../wire/encoder.js';
import { narrowObjectIds, objectIdMatches, type ObjectIdKey } from './objectid.js';
import { narrowing, Scope, UNKNOWN, YES } from './scope.js';

/** Meta data of a read without `needs.meta`. */
const NO_METAS: ReadonlyMap<number, MessageMeta> = new Map();
/** How often a scan reports progress (RFC 9585 INPROGRESS). */
const PROGRESS_EVERY_MS = 1000;

export const fold = (s: string): string => s.normalize('NFC').toLowerCase();

export interface SearchResult {
  /** Matching sequence numbers, ascending. */
  seqs: Uint32Array;
  /** Their UIDs, in the same order. May be the mailbox's own UID list (ALL): do not modify. */
  uids: Uint32Array;
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

/**
 * The index's answer for one key, by candidate position (scope.ts): `state[i]`
 * is NO, YES or UNKNOWN (the index does not cover that message: scan it);
 * `maybe` lists the positions that are not NO, ascending.
 */
interface IndexAnswer {
  state: Uint8Array;
  maybe: Uint32Array;
}

function indexField(k: Extract<SearchKey, { type: 'header' | 'body' | 'text' }>): IndexField {
  if (k.type !== 'header') return k.type;
  const f = k.field.toLowerCase();
  return f === 'subject' || f === 'from' || f === 'to' || f === 'cc' || f === 'bcc' ? f : { header: f };
}

/** Per command: resolved sets, the index's answers (by scope position) and the flag view. */
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

  /** The index's verdict on `k` for the message at scope position `pos`, or undefined when it has none. */
  indexed(k: SearchKey, pos: number): boolean | undefined {
    const a = this.answers.get(k);
    if (a === undefined) return undefined;
    const v = a.state[pos]!;
    return v === UNKNOWN ? undefined : v === YES;
  }

  /**
   * `k` for one message without reading anything: undefined when some key
   * needs the header data or the text.
   */
  quick(k: SearchKey, pos: number, uid: number, seq: number): boolean | undefined {
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
        return this.indexed(k, pos);
      case 'emailid':
      case 'threadid':
        return this.narrowed.get(k)?.has(uid) === false ? false : undefined;
      case 'not': {
        const v = this.quick(k.key, pos, uid, seq);
        return v === undefined ? undefined : !v;
      }
      case 'or': {
        const a = this.quick(k.a, pos, uid, seq);
        if (a === true) return true;
        const b = this.quick(k.b, pos, uid, seq);
        if (b === true) return true;
        return a === false && b === false ? false : undefined;
      }
      case 'and': {
        let unsure = false;
        for (const x of k.keys) {
          const v = this.quick(x, pos, uid, seq);
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
        const known = this.indexed(k, c.pos);
        if (known !== undefined) return known;
        const needle = fold(k.value);
        const values = c.headerText(k.field.toLowerCase());
        if (needle === '') return values.length > 0;
        return values.some((v) => fold(v).includes(needle));
      }
      case 'body': {
        const known = this.indexed(k, c.pos);
        if (known !== undefined) return known;
        return fold(await c.bodyText()).includes(fold(k.value));
      }
      case 'text': {
        const known = this.indexed(k, c.pos);
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
        return this.quick(k, c.pos, c.uid, c.seq)!;
    }
  }
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
  const scope = Scope.of(sel, key);
  const uids = scope.uids;
  if (key.type === 'all') return { seqs: scope.seqsOf(identity(uids.length)), uids, modseq: undefined };
  const ev = new Evaluation(sel);
  // SEARCH changes no flags: one view for the whole span (a remote store pays a round trip per view)
  if (needs.flags && uids.length > 0) ev.flags = await s.flags!.view(s.flagKey(), uids[0]!, uids[uids.length - 1]!);
  await askIndex(sel, needs, scope, ev);
  if (needs.objectIds.length > 0) await narrowObjectIds(sel, ctx.server.renderCache, needs.objectIds, uids, ev.narrowed);

  // Only the positions the index left open are looked at: a rare word costs its hits, not the mailbox.
  const open = narrowing(key, (k) => ev.answers.get(k)?.maybe) ?? identity(uids.length);
  const hits = new Uint8Array(open.length);
  const rest: number[] = [];
  for (let j = 0; j < open.length; j++) {
    const i = open[j]!;
    const v = ev.quick(key, i, uids[i]!, scope.seqAt(i));
    if (v === undefined) rest.push(j);
    else if (v) hits[j] = 1;
  }
  if (rest.length > 0) await scan(ctx, sel, key, ev, needs, scope, open, rest, hits);

  let n = 0;
  for (let j = 0; j < open.length; j++) n += hits[j]!;
  const found = new Uint32Array(n);
  n = 0;
  for (let j = 0; j < open.length; j++) if (hits[j]) found[n++] = open[j]!;
  const out: SearchResult = { seqs: scope.seqsOf(found), uids: scope.uidsOf(found), modseq: undefined };
  if (needs.modseq && n > 0) {
    let maxModseq = 0;
    for (const uid of out.uids) maxModseq = Math.max(maxModseq, ev.flags!.modseqOf(uid));
    out.modseq = maxModseq;
  }
  return out;
}

/** 0 … n-1. */
function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** The index's answers for the keys it can take; a failing index is simply not used. */
async function askIndex(sel: SelectedMailbox, needs: Needs, scope: Scope, ev: Evaluation): Promise<void> {
  const index = sel.handle.search;
  if (index === undefined || needs.indexable.length === 0 || scope.length === 0) return;
  for (const k of needs.indexable) {
    if (ev.answers.has(k)) continue;
    try {
      const m = await index.match([{ field: indexField(k), needle: k.value }], scope.uids);
      ev.answers.set(k, scope.place(m.uids, m.unknown));
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
    }
  }
}

/**
 * Reads and tests the messages the quick pass could not decide: `rest` holds
 * indices into `open`, which holds scope positions.
 */
async function scan(
  ctx: CommandContext, sel: SelectedMailbox, key: SearchKey, ev: Evaluation, needs: Needs,
  scope: Scope, open: Uint32Array, rest: number[], hits: Uint8Array,
): Promise<void> {
  const restUids = rest.map((j) => scope.uids[open[j]!]!);
  let unreadable = 0;
  let read = 0;
  let done = 0;
  let lastReport = Date.now();
  // Meta is read for header keys the index could not decide as well as for date and size keys.
  const wantMeta = needs.meta || needs.indexable.length > 0;
  for await (const got of sel.handle.read(restUids, { meta: wantMeta, exactSize: needs.size, content: needs.body })) {
    const metas = got.metas ?? NO_METAS;
    for (let k = 0; k < got.uids.length; k++) {
      const j = rest[got.from + k]!;
      const pos = open[j]!;
      const uid = got.uids[k]!;
      const meta = metas.get(uid);
      done++;
      if (wantMeta && !meta) {
        unreadable++;
        continue;
      }
      try {
        if (await ev.matches(key, new Candidate(pos, scope.seqAt(pos), uid, meta, sel))) hits[j] = 1;
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
