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
import { command } from '../command.js';
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
  d.sequenceSet();
  mailboxArg(d);
};

export const readOnlyCommands = [
  refusal('CREATE', AUTHENTICATED, (d) => { mailboxArg(d); rest(d); }, 'NOPERM', 'Mailboxes cannot be created: newsgroups are read-only'),
  refusal('DELETE', AUTHENTICATED, mailboxArg, 'NOPERM', 'Newsgroups cannot be deleted'),
  refusal('RENAME', AUTHENTICATED, (d) => { mailboxArg(d); mailboxArg(d); }, 'NOPERM', 'Newsgroups cannot be renamed'),
  refusal('APPEND', AUTHENTICATED, appendArgs, 'CANNOT', 'APPEND is not possible: newsgroups are read-only (post with a newsreader)'),
  refusal('EXPUNGE', SELECTED, () => undefined, 'CANNOT', 'Articles cannot be expunged: newsgroups are read-only; \\Deleted is only a mark'),
  refusal('UID EXPUNGE', SELECTED, (d) => { d.sp(); d.sequenceSet(); }, 'CANNOT', 'Articles cannot be expunged: newsgroups are read-only'),
  refusal('COPY', SELECTED, copyArgs, 'CANNOT', 'COPY is not possible: all mailboxes are read-only'),
  refusal('UID COPY', SELECTED, copyArgs, 'CANNOT', 'COPY is not possible: all mailboxes are read-only'),
  refusal('MOVE', SELECTED, copyArgs, 'CANNOT', 'MOVE is not possible: newsgroups are read-only'),
  refusal('UID MOVE', SELECTED, copyArgs, 'CANNOT', 'MOVE is not possible: newsgroups are read-only'),
];
