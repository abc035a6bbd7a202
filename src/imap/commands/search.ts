/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4; ESEARCH RFC 4731).
 *
 *   C: a1 UID SEARCH CHARSET UTF-8 SUBJECT "café" SINCE 1-Jan-2024
 *   S: * SEARCH 4 17 230
 *   C: a2 UID SEARCH RETURN (MIN MAX COUNT) UNSEEN
 *   S: * ESEARCH (TAG "a2") UID MIN 4 MAX 230 COUNT 3
 *
 * Header, date and size keys are answered from the cached header data; only
 * BODY and TEXT read articles. Matching is a case-insensitive substring test
 * on text decoded to Unicode (encoded words, charsets, transfer encodings).
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import { parseSearch, type SearchKey, type SearchRequest } from '../wire/search-key.js';
import type { ImapDate } from '../wire/decoder.js';
import { resolveSet, uidsOf } from '../sequence.js';
import { bad, no } from '../errors.js';
import { toRuns } from '../../stateagent/stores/session.js';
import { BackendError, type MessageMeta, type MimePart } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import { findField, parseHeader, type HeaderField } from '../../mime/header.js';
import { decodeHeaderValue, textForSearch } from '../../mime/decode.js';
import { SelectedMailbox } from '../selected.js';

/** Meta data of a read without `needs.meta`. */
const NO_METAS: ReadonlyMap<number, MessageMeta> = new Map();
/** Articles up to this size are read whole once for BODY/TEXT, rather than part by part. */
const WHOLE_READ_LIMIT = 256 * 1024;
/** Bodies larger than this are searched in their first part only (bounded memory per message). */
const MAX_SEARCH_BODY = 8 * 1024 * 1024;

interface Needs {
  meta: boolean;
  body: boolean;
  flags: boolean;
  modseq: boolean;
  /** LARGER/SMALLER need exact sizes. */
  size: boolean;
}

function needsOf(k: SearchKey, n: Needs = { meta: false, body: false, flags: false, modseq: false, size: false }): Needs {
  switch (k.type) {
    case 'header':
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
      n.meta = true;
      n.body = true;
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
    case 'uid':
    case 'seq':
      if (k.set === '$') throw bad('CLIENTBUG', 'No saved search result ($): SEARCHRES is not offered');
      break;
  }
  return n;
}

/** One message under test; the expensive parts are computed once, on demand. */
class Candidate {
  private fields?: HeaderField[];
  private text?: Promise<string>;
  constructor(
    readonly seq: number,
    readonly uid: number,
    readonly meta: MessageMeta | undefined,
    private readonly sel: SelectedMailbox,
  ) {}

  headerFields(): HeaderField[] {
    return (this.fields ??= parseHeader(this.meta!.header));
  }

  headerText(name: string): string[] {
    return this.headerFields()
      .filter((f) => f.lname === name)
      .map((f) => decodeHeaderValue(f.value));
  }

  bodyText(): Promise<string> {
    return (this.text ??= this.loadBody());
  }

  private async loadBody(): Promise<string> {
    const root = await this.sel.handle.structure(this.uid);
    const leaves: MimePart[] = [];
    const walk = (p: MimePart): void => {
      // A multipart whose boundary never appears has only a made-up empty part: search its raw body.
      if (p.parts && p.parts.every((c) => c.synthetic)) leaves.push(p);
      else if (p.parts) p.parts.forEach(walk);
      else if (p.message) walk(p.message.body);
      else if (p.type === 'text' || p.type === 'message') leaves.push(p);
    };
    walk(root);
    const out: string[] = [];
    // A small article is read once, whole; the text parts are cut from it.
    const whole = root.bodyEnd <= WHOLE_READ_LIMIT ? await this.read(0, root.bodyEnd) : undefined;
    for (const leaf of leaves) {
      const end = Math.min(leaf.bodyEnd, leaf.bodyStart + MAX_SEARCH_BODY);
      if (end <= leaf.bodyStart) continue;
      const bytes = whole ? whole.subarray(leaf.bodyStart, end) : await this.read(leaf.bodyStart, end);
      out.push(textForSearch(leaf, bytes));
    }
    return out.join('\n');
  }

  private async read(start: number, end: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of (await this.sel.handle.content(this.uid, { start, end })) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }
}

const fold = (s: string): string => s.normalize('NFC').toLowerCase();

function dayNumber(d: ImapDate): number {
  return Date.UTC(d.year, d.month - 1, d.day) / 86_400_000;
}

/** The calendar day of a Date header in its own zone ("disregarding time and timezone"). */
function sentDay(c: Candidate): number | undefined {
  const f = findField(c.headerFields(), 'date');
  if (!f) return undefined;
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(f.value.toString('latin1'));
  if (!m) return undefined;
  const month = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(m[2]!.toLowerCase());
  if (month < 0) return undefined;
  let year = Number(m[3]);
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  return Date.UTC(year, month, Number(m[1])) / 86_400_000;
}

function compareDay(day: number | undefined, op: 'before' | 'on' | 'since', target: number): boolean {
  if (day === undefined) return false;
  return op === 'before' ? day < target : op === 'on' ? day === target : day >= target;
}

async function matches(k: SearchKey, c: Candidate, flags: FlagView | undefined, ctx: EvalContext): Promise<boolean> {
  switch (k.type) {
    case 'all':
      return true;
    case 'flag':
      if (k.flag === '\\Recent') return !k.set; // no session ever sees an article as recent
      return flags!.has(c.uid, k.flag) === k.set;
    case 'new':
      return false;
    case 'old':
      return true;
    case 'header': {
      const needle = fold(k.value);
      const values = c.headerText(k.field.toLowerCase());
      if (needle === '') return values.length > 0;
      return values.some((v) => fold(v).includes(needle));
    }
    case 'body':
      return fold(await c.bodyText()).includes(fold(k.value));
    case 'text': {
      const needle = fold(k.value);
      if (c.headerFields().some((f) => fold(`${f.name}: ${decodeHeaderValue(f.value)}`).includes(needle))) return true;
      return fold(await c.bodyText()).includes(needle);
    }
    case 'internaldate': {
      const d = c.meta!.internalDate;
      return compareDay(Math.floor(d.getTime() / 86_400_000), k.op, dayNumber(k.date));
    }
    case 'sentdate':
      return compareDay(sentDay(c), k.op, dayNumber(k.date));
    case 'larger':
      return c.meta!.size > k.size;
    case 'smaller':
      return c.meta!.size < k.size;
    case 'uid':
      return ctx.uidSet(k).has(c.uid);
    case 'seq':
      return ctx.seqSet(k).has(c.seq);
    case 'not':
      return !(await matches(k.key, c, flags, ctx));
    case 'or':
      return (await matches(k.a, c, flags, ctx)) || (await matches(k.b, c, flags, ctx));
    case 'and':
      for (const x of k.keys) if (!(await matches(x, c, flags, ctx))) return false;
      return true;
    case 'modseq':
      return flags!.modseqOf(c.uid) >= k.modseq;
  }
}

/** Sequence/UID sets of the query, resolved once per command. */
class EvalContext {
  private readonly cache = new Map<SearchKey, Set<number>>();
  constructor(private readonly sel: SelectedMailbox) {}
  uidSet(k: Extract<SearchKey, { type: 'uid' }>): Set<number> {
    let s = this.cache.get(k);
    if (!s) this.cache.set(k, (s = new Set(resolveSet(this.sel, k.set as never, true, true).map((n) => this.sel.uidAt(n)))));
    return s;
  }
  seqSet(k: Extract<SearchKey, { type: 'seq' }>): Set<number> {
    let s = this.cache.get(k);
    if (!s) this.cache.set(k, (s = new Set(resolveSet(this.sel, k.set as never, false, true))));
    return s;
  }
}

async function runSearch(ctx: CommandContext, req: SearchRequest, byUid: boolean): Promise<void> {
  const s = ctx.session;
  const sel = s.selected!;
  if (req.charset && !/^(utf-8|us-ascii)$/i.test(req.charset)) throw no('BADCHARSET (UTF-8 US-ASCII)', 'Unsupported charset');
  const needs = needsOf(req.key);
  const seqs = candidates(sel, req.key);
  if (needs.modseq) {
    if (!ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'MODSEQ needs CONDSTORE, which needs a persistent flag store');
    s.enabled.add('CONDSTORE');
  }
  let maxModseq = 0;
  const hits: number[] = [];
  const ectx = new EvalContext(sel);
  let unreadable = 0;
  let read = 0;
  const uids = uidsOf(sel, seqs);
  // SEARCH changes no flags: one view for the whole span (a remote store pays a round trip per view)
  const flags = needs.flags && uids.length > 0 ? await s.flags!.view(s.flagKey(), uids[0]!, uids[uids.length - 1]!) : undefined;
  // BODY/TEXT read each article: the reader asks for a batch's articles at once (pipelined)
  for await (const got of sel.handle.read(uids, { meta: needs.meta, exactSize: needs.size, content: needs.body })) {
    const metas = got.metas ?? NO_METAS;
    for (let i = 0; i < got.uids.length; i++) {
      const n = seqs[got.from + i]!;
      const uid = got.uids[i]!;
      const meta = metas.get(uid);
      if (needs.meta && !meta) {
        unreadable++;
        continue;
      }
      const cand = new Candidate(n, uid, meta, sel);
      let hit: boolean;
      try {
        hit = await matches(req.key, cand, flags, ectx);
        read++;
      } catch (err) {
        // One article the upstream cannot deliver does not sink the search.
        if (!(err instanceof BackendError)) throw err;
        unreadable++;
        continue;
      }
      if (hit) {
        hits.push(byUid ? uid : n);
        if (needs.modseq) maxModseq = Math.max(maxModseq, flags!.modseqOf(uid));
      }
    }
  }
  if (unreadable > 0 && read === 0) throw no('UNAVAILABLE', 'The articles could not be read from the upstream');
  await answer(ctx, req, hits, byUid, needs.modseq && hits.length > 0 ? maxModseq : undefined);
}

async function answer(ctx: CommandContext, req: SearchRequest, hits: number[], byUid: boolean, modseq?: number): Promise<void> {
  if (req.returnOptions === undefined) {
    await ctx.write('* SEARCH');
    for (let i = 0; i < hits.length; i += 2000) await ctx.write(' ' + hits.slice(i, i + 2000).join(' '));
    await ctx.write(modseq !== undefined ? ` (MODSEQ ${modseq})\r\n` : '\r\n');
    return;
  }
  const opts = req.returnOptions.length === 0 ? ['ALL'] : req.returnOptions;
  const out = [`* ESEARCH (TAG "${ctx.tag}")`, byUid ? ' UID' : ''];
  if (hits.length > 0) {
    if (opts.includes('MIN')) out.push(` MIN ${hits[0]}`);
    if (opts.includes('MAX')) out.push(` MAX ${hits[hits.length - 1]}`);
  }
  if (opts.includes('COUNT')) out.push(` COUNT ${hits.length}`);
  if (opts.includes('ALL') && hits.length > 0) {
    out.push(' ALL ', toRuns(hits).map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`)).join(','));
  }
  if (modseq !== undefined) out.push(` MODSEQ ${modseq}`);
  await ctx.write(...out, '\r\n');
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
    if ((k.type !== 'uid' && k.type !== 'seq') || k.set === '$') continue;
    const next = resolveSet(sel, k.set, k.type === 'uid', true);
    set = set === undefined ? next : intersect(set, next);
  }
  if (set) return set;
  const all: number[] = [];
  for (let n = 1; n <= sel.exists; n++) all.push(n);
  return all;
}

function intersect(a: number[], b: number[]): number[] {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

function parse(d: import('../wire/decoder.js').Decoder): SearchRequest {
  const req = parseSearch(d);
  d.end();
  if (req.returnOptions?.includes('SAVE')) throw bad('CLIENTBUG', 'RETURN (SAVE) is not offered (no SEARCHRES)');
  return req;
}

export const searchCommands = [
  command({ name: 'SEARCH', states: SELECTED, parse, run: (ctx, r) => runSearch(ctx, r, false), expungeOk: false }),
  command({ name: 'UID SEARCH', states: SELECTED, parse, run: (ctx, r) => runSearch(ctx, r, true) }),
];
