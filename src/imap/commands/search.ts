/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4; ESEARCH RFC 4731; PARTIAL RFC 9394;
 * SEARCHRES RFC 5182).
 *
 *   C: a1 UID SEARCH CHARSET UTF-8 SUBJECT "café" SINCE 1-Jan-2024
 *   S: * SEARCH 4 17 230
 *   C: a2 UID SEARCH RETURN (MIN MAX COUNT) UNSEEN
 *   S: * ESEARCH (TAG "a2") UID MIN 4 MAX 230 COUNT 3
 *   C: a3 UID SEARCH RETURN (SAVE) FROM "alice"
 *   C: a4 UID FETCH $ (ENVELOPE)
 *
 * Which messages match is decided in ../search/evaluate.ts (index first, then
 * a scan of what the index does not cover); the answer is written by
 * ../search/answer.ts. A saved result (`$`) belongs to the selected mailbox and
 * is emptied when a SEARCH with SAVE fails (RFC 5182 §2.1).
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import { parseSearch, type SearchRequest } from '../wire/search-key.js';
import type { Decoder } from '../wire/decoder.js';
import { evaluateSearch } from '../search/evaluate.js';
import { savedUids, writeAnswer } from '../search/answer.js';

async function runSearch(ctx: CommandContext, req: SearchRequest, byUid: boolean): Promise<void> {
  const sel = ctx.session.selected!;
  const save = req.returnOptions?.includes('SAVE') === true;
  let result;
  try {
    result = await evaluateSearch(ctx, req.key, req.charset);
  } catch (err) {
    if (save) sel.saved = new Uint32Array(0);
    throw err;
  }
  const answer = {
    kind: 'SEARCH' as const,
    returnOptions: req.returnOptions,
    partial: req.partial,
    byUid,
    hits: byUid ? result.uids : result.seqs,
    uids: result.uids,
    modseq: result.modseq,
  };
  if (save) sel.saved = savedUids(answer);
  await writeAnswer(ctx, answer);
}

function parse(d: Decoder): SearchRequest {
  const req = parseSearch(d);
  d.end();
  return req;
}

export const searchCommands = [
  command({ name: 'SEARCH', states: SELECTED, parse, run: (ctx, r) => runSearch(ctx, r, false), expungeOk: false }),
  command({ name: 'UID SEARCH', states: SELECTED, parse, run: (ctx, r) => runSearch(ctx, r, true) }),
];
