/**
 * ACL (RFC 4314), answered with the rights a user really has on a newsgroup:
 * l (lookup), r (read), s (keep \Seen), w (write other flags), t (\Deleted as
 * a personal mark) — never i, p, k, x, e or a: articles and mailboxes are
 * read-only public data (invariant 3). Clients such as mutt read MYRIGHTS to
 * decide what they may offer.
 *
 *   C: a1 MYRIGHTS comp.lang.misc     S: * MYRIGHTS comp.lang.misc lrswt
 *   C: a2 SETACL comp.lang.misc bob lr S: a2 NO [NOPERM] ...
 */
import { command, type CommandContext } from '../command.js';
import { AUTHENTICATED } from '../session.js';
import type { Decoder } from '../wire/decoder.js';
import { astring, mailbox as encMailbox } from '../wire/encoder.js';
import { no } from '../errors.js';
import { noSuchMailbox } from '../response-text.js';
import type { MailboxEntry } from '../../export/interface.js';

const FLAG_RIGHTS = 'lrswt';
const READ_RIGHTS = 'lr';

async function rightsOf(ctx: CommandContext, name: string): Promise<string> {
  const entry = (await ctx.server.backend.mailboxes()).find((e) => e.name === name);
  if (!entry) throw noSuchMailbox(name);
  return rightsFor(ctx, entry);
}

/** The caller's rights on a mailbox that exists (also LIST RETURN (MYRIGHTS), RFC 8440). */
export function rightsFor(ctx: CommandContext, entry: MailboxEntry): string {
  if (!entry.selectable) return 'l';
  return ctx.session.anonymous && ctx.server.options.persistentFlags ? READ_RIGHTS + 's' : FLAG_RIGHTS;
}

/** `SP mailbox` and the end of the line (MYRIGHTS, GETACL; SUBSCRIBE and UNSUBSCRIBE too). */
export const mailboxOnly = (d: Decoder): string => {
  d.sp();
  const name = d.mailbox();
  d.end();
  return name;
};

/** `SP mailbox SP identifier`, what LISTRIGHTS, SETACL and DELETEACL start with (RFC 4314 §3). */
const mailboxAndId = (d: Decoder): { name: string; id: string } => {
  d.sp();
  const name = d.mailbox();
  d.sp();
  return { name, id: d.astring() };
};

/** SETACL and DELETEACL: the rights are fixed. */
const refuse = async (): Promise<never> => {
  throw no('NOPERM', 'Rights on newsgroups are fixed: read and personal flags only');
};

export const aclCommands = [
  command({
    name: 'MYRIGHTS',
    states: AUTHENTICATED,
    parse: mailboxOnly,
    async run(ctx, name) {
      await ctx.untagged('MYRIGHTS ', encMailbox(name, { utf8: ctx.session.utf8 }), ` ${await rightsOf(ctx, name)}`);
    },
  }),
  command({
    name: 'GETACL',
    states: AUTHENTICATED,
    parse: mailboxOnly,
    async run(ctx, name) {
      // Only the caller's own entry: other users' existence is nobody's business (invariant 5).
      const rights = await rightsOf(ctx, name);
      await ctx.untagged('ACL ', encMailbox(name, { utf8: ctx.session.utf8 }), ' ', astring(ctx.session.user!), ` ${rights}`);
    },
  }),
  command({
    name: 'LISTRIGHTS',
    states: AUTHENTICATED,
    parse(d) {
      const a = mailboxAndId(d);
      d.end();
      return a;
    },
    async run(ctx, a) {
      await rightsOf(ctx, a.name);
      await ctx.untagged('LISTRIGHTS ', encMailbox(a.name, { utf8: ctx.session.utf8 }), ' ', astring(a.id), ' "" l r s w t');
    },
  }),
  command({
    name: 'SETACL',
    states: AUTHENTICATED,
    parse(d) {
      mailboxAndId(d);
      d.sp();
      d.astring();
      d.end();
    },
    run: refuse,
  }),
  command({
    name: 'DELETEACL',
    states: AUTHENTICATED,
    parse(d) {
      mailboxAndId(d);
      d.end();
    },
    run: refuse,
  }),
];
