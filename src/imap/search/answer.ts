/**
 * Answers of SEARCH and SORT: the plain `* SEARCH` / `* SORT` lists, ESEARCH
 * (RFC 4731, with SORT: ESORT, RFC 5267) with MIN, MAX, COUNT, ALL and
 * PARTIAL (RFC 9394), and RETURN (SAVE) (RFC 5182 SEARCHRES).
 *
 *   C: a UID SEARCH RETURN (PARTIAL -1:-3 COUNT) SUBJECT nntp
 *   S: * ESEARCH (TAG "a") UID COUNT 17 PARTIAL (-1:-3 880,881,890)
 *   C: b UID SORT RETURN (MIN ALL) (REVERSE DATE) UTF-8 ALL
 *   S: * ESEARCH (TAG "b") UID MIN 9 ALL 9,3:4,1
 *
 * `hits` are in answer order: ascending for SEARCH, sort order for SORT; MIN
 * and MAX are the first and last of that order for SORT (RFC 5267 §3.2), the
 * lowest and highest for SEARCH. The saved result is kept as UIDs, so that
 * `$` keeps naming the same messages after an EXPUNGE.
 */
import type { CommandContext } from '../command.js';
import type { PartialRange, ReturnOption } from '../wire/search-key.js';

export interface Answer {
  /** 'SEARCH' or 'SORT': the name of the plain untagged response. */
  kind: 'SEARCH' | 'SORT';
  /** RETURN options; undefined = no RETURN, plain answer. */
  returnOptions: ReturnOption[] | undefined;
  partial: PartialRange | undefined;
  byUid: boolean;
  /** Numbers to answer with (UIDs or sequence numbers), in answer order. */
  hits: ArrayLike<number>;
  /** The same messages as UIDs (what SAVE keeps). */
  uids: ArrayLike<number>;
  /** CONDSTORE: highest MODSEQ of the hits (RFC 7162 §3.1.5), when asked for. */
  modseq?: number;
}

/** The positions [start, end) of `partial` in a list of `n` results (RFC 9394 §3.1), clamped. */
export function partialSlice(p: PartialRange, n: number): [number, number] {
  if (p.lo > 0) return [Math.min(p.lo - 1, n), Math.min(p.hi, n)];
  // -1 is the last result: -lo..-hi counted from the end, in list order
  const start = Math.max(n + p.hi, 0);
  const end = Math.max(n + p.lo + 1, 0);
  return [start, end];
}

/** `a:b` runs of an ascending (or any) list: consecutive ascending neighbours join (RFC 5267 allows it for ALL). */
export function sequenceText(list: ArrayLike<number>, from = 0, to = list.length): string {
  const parts: string[] = [];
  let i = from;
  while (i < to) {
    const lo = list[i]!;
    let j = i;
    while (j + 1 < to && list[j + 1] === list[j]! + 1) j++;
    parts.push(j === i ? `${lo}` : `${lo}:${list[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * What RETURN (SAVE) keeps (RFC 5182 §2.1, RFC 9394 §3.2): the whole result,
 * or with MIN/MAX alone those, or with PARTIAL the partial result.
 */
export function savedUids(a: Answer): Uint32Array {
  const opts = a.returnOptions ?? [];
  const n = a.uids.length;
  if (opts.includes('PARTIAL') && a.partial) {
    const [s, e] = partialSlice(a.partial, n);
    return ascending(Array.from({ length: e - s }, (_, i) => a.uids[s + i]!));
  }
  const minMaxOnly = !opts.includes('ALL') && !opts.includes('COUNT') && (opts.includes('MIN') || opts.includes('MAX'));
  if (minMaxOnly && n > 0) {
    const out: number[] = [];
    if (opts.includes('MIN')) out.push(a.kind === 'SORT' ? a.uids[0]! : Math.min(a.uids[0]!, a.uids[n - 1]!));
    if (opts.includes('MAX')) out.push(a.kind === 'SORT' ? a.uids[n - 1]! : Math.max(a.uids[0]!, a.uids[n - 1]!));
    return ascending(out);
  }
  return ascending(Array.from(a.uids));
}

function ascending(list: number[]): Uint32Array {
  return Uint32Array.from(new Set(list)).sort();
}

/** Writes the answer (and nothing for RETURN (SAVE) alone, RFC 5182 §2.1). */
export async function writeAnswer(ctx: CommandContext, a: Answer): Promise<void> {
  const hits = a.hits;
  if (a.returnOptions === undefined) {
    await ctx.write(`* ${a.kind}`);
    const step = 2000;
    for (let i = 0; i < hits.length; i += step) {
      let chunk = '';
      const end = Math.min(i + step, hits.length);
      for (let j = i; j < end; j++) chunk += ' ' + hits[j];
      await ctx.write(chunk);
    }
    await ctx.write(a.modseq !== undefined ? ` (MODSEQ ${a.modseq})\r\n` : '\r\n');
    return;
  }
  const given = a.returnOptions;
  if (given.length === 1 && given[0] === 'SAVE') return;
  const opts: readonly string[] = given.length === 0 ? ['ALL'] : given;
  const out = [`* ESEARCH (TAG "${ctx.tag}")`, a.byUid ? ' UID' : ''];
  const n = hits.length;
  if (n > 0) {
    if (opts.includes('MIN')) out.push(` MIN ${hits[0]}`);
    if (opts.includes('MAX')) out.push(` MAX ${hits[n - 1]}`);
  }
  if (opts.includes('COUNT')) out.push(` COUNT ${n}`);
  if (opts.includes('ALL') && n > 0) out.push(' ALL ', sequenceText(hits));
  if (opts.includes('PARTIAL') && a.partial) {
    const p = a.partial;
    const [s, e] = partialSlice(p, n);
    const range = `${p.lo}:${p.hi}`;
    out.push(` PARTIAL (${range} ${e > s ? sequenceText(hits, s, e) : 'NIL'})`);
  }
  if (a.modseq !== undefined) out.push(` MODSEQ ${a.modseq}`);
  await ctx.write(...out, '\r\n');
}
