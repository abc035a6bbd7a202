/**
 * THREAD and UID THREAD (RFC 5256 §3: ORDEREDSUBJECT, REFERENCES; THREAD=REFS).
 *
 *   C: a1 UID THREAD REFERENCES UTF-8 ALL
 *   S: * THREAD (2)(3 6 (4 23)(44 7 96))
 *
 * The messages come from the same search as SEARCH; the threads from the
 * backend's index (`MailboxHandle.search.thread`), kept per group between
 * commands. Without an index THREAD is not offered and answers NO [CANNOT].
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import { parseCharsetAndKeys, type SearchKey } from '../wire/search-key.js';
import type { Decoder } from '../wire/decoder.js';
import { ParseError } from '../wire/errors.js';
import { no } from '../errors.js';
import type { ThreadAlgorithm } from '../../export/interface.js';
import { evaluateSearch } from '../search/evaluate.js';
import { renderThreads } from '../render/thread.js';

export const THREAD_ALGORITHMS: readonly ThreadAlgorithm[] = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'];

export interface ThreadRequest {
  algorithm: ThreadAlgorithm;
  charset: string;
  key: SearchKey;
}

/** `SP thread-alg SP search-criteria`, after THREAD. */
export function parseThread(d: Decoder): ThreadRequest {
  d.sp();
  const at = d.offset;
  const algorithm = d.atom().toUpperCase();
  if (!(THREAD_ALGORITHMS as readonly string[]).includes(algorithm)) throw new ParseError('thread-alg ORDEREDSUBJECT, REFERENCES or REFS', at);
  d.sp();
  const { charset, key } = parseCharsetAndKeys(d);
  d.end();
  return { algorithm: algorithm as ThreadAlgorithm, charset, key };
}

async function runThread(ctx: CommandContext, req: ThreadRequest, byUid: boolean): Promise<void> {
  const sel = ctx.session.selected!;
  const index = sel.handle.search;
  if (index === undefined) throw no('CANNOT', 'THREAD needs the search index, which this mailbox does not have');
  const found = await evaluateSearch(ctx, req.key, req.charset);
  const forest = found.uids.length > 0 ? await index.thread(req.algorithm, found.uids) : [];
  const lists = renderThreads(forest, byUid ? undefined : (uid) => sel.seqOf(uid));
  await ctx.write('* THREAD', lists.length > 0 ? ' ' : '', lists, '\r\n');
}

export const threadCommands = [
  command({ name: 'THREAD', states: SELECTED, parse: parseThread, run: (ctx, r) => runThread(ctx, r, false), expungeOk: false }),
  command({ name: 'UID THREAD', states: SELECTED, parse: parseThread, run: (ctx, r) => runThread(ctx, r, true) }),
];
