/**
 * Commands that would change public data get a tagged NO with a response
 * code, never BAD and never success (DESIGN invariant 3):
 *
 *   C: a1 APPEND comp.lang.misc {310}     S: a1 NO [CANNOT] ... (before any `+`)
 *   C: a2 CREATE foo                      S: a2 NO [NOPERM] ...
 *   C: a3 EXPUNGE                         S: a3 NO [CANNOT] ...
 *
 * The arguments are still parsed, so a malformed command is a BAD like any other.
 */
import { command, type CommandContext } from '../command.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import { concreteSet, resolveSet } from '../sequence.js';
import { AUTHENTICATED, SELECTED } from '../session.js';
import { no } from '../errors.js';
import type { Decoder } from '../wire/decoder.js';

const mailboxArg = (d: Decoder): void => {
  d.sp();
  d.mailbox();
};
const rest = (d: Decoder): void => {
  if (!d.atEnd()) d.rest();
};

const refusal = (name: string, states: typeof AUTHENTICATED, parse: (d: Decoder) => void, code: string, text: string) =>
  command({
    name,
    states,
    parse(d) {
      parse(d);
      d.end();
    },
    async run() {
      throw no(code as 'CANNOT', text);
    },
  });

/** `APPEND mailbox 1*(SP [flag-list SP] [date-time SP] literal)` (RFC 9051 §6.3.12, MULTIAPPEND RFC 3502). */
const appendArgs = (d: Decoder): void => {
  mailboxArg(d);
  while (!d.atEnd()) {
    d.sp();
    const c = d.peekByte();
    if (c === 0x28) d.flagList();
    else if (c === 0x22) d.dateTime();
    else if (c === 0x7e) d.literal8();
    else d.literal();
  }
};

const copyArgs = (d: Decoder): void => {
  d.sp();
  d.sequenceSetOrSaved();
  mailboxArg(d);
};

/**
 * EXPUNGE with nothing marked \Deleted removes nothing: OK is the exact answer
 * (RFC 9051 §6.4.3; NeoMutt and fetchmail send it after every sync). With
 * \Deleted articles it is refused: that mark is personal, the article public.
 */
async function expunge(ctx: CommandContext, set: SequenceSet | undefined): Promise<void> {
  const s = ctx.session;
  const sel = s.selected!;
  const seqs = set ? resolveSet(sel, set, true) : undefined;
  const uids = seqs ? seqs.map((n) => sel.uidAt(n)) : Array.from(sel.uids);
  if (uids.length === 0) return;
  const view = await s.flags!.view(s.flagKey(), uids[0]!, uids[uids.length - 1]!);
  if (uids.some((u) => view.has(u, '\\Deleted'))) {
    throw no('CANNOT', 'Articles cannot be expunged: newsgroups are read-only; \\Deleted stays a personal mark');
  }
}

export const readOnlyCommands = [
  refusal('CREATE', AUTHENTICATED, (d) => { mailboxArg(d); rest(d); }, 'NOPERM', 'Mailboxes cannot be created: newsgroups are read-only'),
  refusal('DELETE', AUTHENTICATED, mailboxArg, 'NOPERM', 'Newsgroups cannot be deleted'),
  refusal('RENAME', AUTHENTICATED, (d) => { mailboxArg(d); mailboxArg(d); }, 'NOPERM', 'Newsgroups cannot be renamed'),
  refusal('APPEND', AUTHENTICATED, appendArgs, 'CANNOT', 'APPEND is not possible: newsgroups are read-only (post with a newsreader)'),
  command({
    name: 'EXPUNGE',
    states: SELECTED,
    parse: (d) => d.end(),
    run: (ctx) => expunge(ctx, undefined),
  }),
  command({
    name: 'UID EXPUNGE',
    states: SELECTED,
    parse(d) {
      d.sp();
      const set = d.sequenceSetOrSaved();
      d.end();
      return set;
    },
    run: (ctx, set) => expunge(ctx, concreteSet(ctx.session.selected!, set, true)),
  }),
  refusal('COPY', SELECTED, copyArgs, 'CANNOT', 'COPY is not possible: all mailboxes are read-only'),
  refusal('UID COPY', SELECTED, copyArgs, 'CANNOT', 'COPY is not possible: all mailboxes are read-only'),
  refusal('MOVE', SELECTED, copyArgs, 'CANNOT', 'MOVE is not possible: newsgroups are read-only'),
  refusal('UID MOVE', SELECTED, copyArgs, 'CANNOT', 'MOVE is not possible: newsgroups are read-only'),
];
