/**
 * SORT and UID SORT (RFC 5256 §3; DISPLAYFROM/DISPLAYTO RFC 5957; ESORT and
 * PARTIAL results RFC 5267, RFC 9394; SAVE RFC 5182).
 *
 *   C: a1 UID SORT (REVERSE DATE) UTF-8 SUBJECT nntp
 *   S: * SORT 930 17 4
 *   C: a2 UID SORT RETURN (COUNT PARTIAL 1:50) (SUBJECT) UTF-8 ALL
 *   S: * ESEARCH (TAG "a2") UID COUNT 100001 PARTIAL (1:50 3,9,...)
 *
 * The messages come from the same search as SEARCH (../search/evaluate.ts);
 * the order from the backend's index (`MailboxHandle.search.sort`), which keeps
 * each group's sort keys between commands. Without an index SORT is not
 * offered (capabilities) and answers NO [CANNOT].
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import { parseCharsetAndKeys, parseReturn, type PartialRange, type ReturnOption, type SearchKey } from '../wire/search-key.js';
import type { Decoder } from '../wire/decoder.js';
import { ParseError } from '../wire/errors.js';
import { no } from '../errors.js';
import type { SortCriterion, SortKey } from '../../export/interface.js';
import { evaluateSearch } from '../search/evaluate.js';
import { savedUids, writeAnswer } from '../search/answer.js';
import { lowerBound } from '../../util/sorted.js';

const SORT_KEYS = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);

export interface SortRequest {
  returnOptions?: ReturnOption[];
  partial?: PartialRange;
  criteria: SortCriterion[];
  charset: string;
  key: SearchKey;
}

/** `[SP "RETURN" SP sort-return-opts] SP sort-criteria SP search-criteria`, after SORT. */
export function parseSort(d: Decoder): SortRequest {
  const req: Partial<SortRequest> = {};
  d.sp();
  if (d.maybe('RETURN ')) {
    parseReturn(d, req);
    d.sp();
  }
  const criteria = d.list(() => {
    const reverse = d.maybe('REVERSE ');
    const at = d.offset;
    const k = d.atom().toUpperCase();
    if (!SORT_KEYS.has(k)) throw new ParseError('sort-key ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM or DISPLAYTO', at);
    return reverse ? { key: k as SortKey, reverse: true } : { key: k as SortKey };
  });
  d.sp();
  const { charset, key } = parseCharsetAndKeys(d);
  d.end();
  return { ...req, criteria, charset, key };
}

async function runSort(ctx: CommandContext, req: SortRequest, byUid: boolean): Promise<void> {
  const sel = ctx.session.selected!;
  const index = sel.handle.search;
  if (index === undefined) throw no('CANNOT', 'SORT needs the search index, which this mailbox does not have');
  const save = req.returnOptions?.includes('SAVE') === true;
  let uids: Uint32Array;
  let modseq: number | undefined;
  try {
    const found = await evaluateSearch(ctx, req.key, req.charset);
    modseq = found.modseq;
    uids = found.uids.length > 0 ? await index.sort(req.criteria, found.uids) : new Uint32Array(0);
  } catch (err) {
    if (save) sel.saved = new Uint32Array(0);
    throw err;
  }
  const answer = { kind: 'SORT' as const, returnOptions: req.returnOptions, partial: req.partial, byUid, hits: byUid ? uids : seqsOf(sel.uids, uids), uids, modseq };
  if (save) sel.saved = savedUids(answer);
  await writeAnswer(ctx, answer);
}

/** Sequence numbers of `uids` (any order) in the mailbox `all` (ascending); 0 for a UID it does not hold. */
function seqsOf(all: Uint32Array, uids: Uint32Array): Uint32Array {
  const out = new Uint32Array(uids.length);
  for (let k = 0; k < uids.length; k++) {
    const u = uids[k]!;
    const i = lowerBound(all, u);
    out[k] = all[i] === u ? i + 1 : 0;
  }
  return out;
}

export const sortCommands = [
  command({ name: 'SORT', states: SELECTED, parse: parseSort, run: (ctx, r) => runSort(ctx, r, false), expungeOk: false }),
  command({ name: 'UID SORT', states: SELECTED, parse: parseSort, run: (ctx, r) => runSort(ctx, r, true) }),
];
