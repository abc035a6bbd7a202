/**
 * Commands valid in every state (RFC 9051 §6.1, RFC 2971 ID, RFC 5161 ENABLE).
 *
 *   C: a1 CAPABILITY            S: * CAPABILITY IMAP4rev1 IMAP4rev2 ...
 *   C: a2 NOOP                  S: * 12 EXISTS   (if new articles arrived)
 *   C: a3 ID ("name" "mutt")    S: * ID ("name" "newsfront" ...)
 *   C: a4 ENABLE UTF8=ACCEPT    S: * ENABLED UTF8=ACCEPT
 *   C: a5 LOGOUT                S: * BYE ...
 */
import { command, type CommandContext } from '../command.js';
import type { MailboxHandle } from '../../export/interface.js';
import { REFRESH_WAIT_MS } from '../limits.js';
import { ANY, AUTHENTICATED } from '../session.js';
import { capabilities } from '../capabilities.js';
import { quoted } from '../wire/encoder.js';

/**
 * `handle.refresh()`, waited for at most REFRESH_WAIT_MS (limits.ts); past that
 * the check goes on in the background and its news come at the next command.
 */
export async function boundedRefresh(ctx: CommandContext, handle: MailboxHandle): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const refresh = handle.refresh().catch((err) => ctx.log.debug({ err }, 'refresh failed'));
  await Promise.race([refresh, new Promise<void>((res) => (timer = setTimeout(res, REFRESH_WAIT_MS)))]);
  clearTimeout(timer);
}

/** Extensions a client may ENABLE here (RFC 5161); others are ignored as the RFC says. */
const ENABLEABLE = new Set(['UTF8=ACCEPT', 'IMAP4REV2', 'UIDONLY']);
/** Offered only with a persistent flag store (RFC 7162). */
const ENABLEABLE_PERSISTENT = new Set(['CONDSTORE', 'QRESYNC']);

export const anyStateCommands = [
  command({
    name: 'CAPABILITY',
    states: ANY,
    parse: (d) => d.end(),
    async run(ctx) {
      await ctx.untagged('CAPABILITY ', capabilities(ctx.server, ctx.session).join(' '));
    },
  }),
  command({
    name: 'NOOP',
    states: ANY,
    parse: (d) => d.end(),
    async run(ctx) {
      // Look upstream for new articles now so a polling client sees them promptly,
      // but never wait long: NOOP is a keep-alive, and a stalled upstream must not hold it.
      const sel = ctx.session.selected;
      if (sel) await boundedRefresh(ctx, sel.handle);
    },
  }),
  command({
    name: 'LOGOUT',
    states: ANY,
    parse: (d) => d.end(),
    async run(ctx) {
      await ctx.untagged('BYE newsfront logging out');
      ctx.session.logout();
    },
  }),
  command({
    name: 'ID',
    states: ANY,
    parse(d) {
      d.sp();
      if (d.maybe('NIL')) {
        d.end();
        return [] as Array<[string, string | null]>;
      }
      const pairs: Array<[string, string | null]> = [];
      d.list(() => {
        const k = d.string();
        d.sp();
        pairs.push([k, d.nstring()]);
        if (pairs.length > 30) d.fail('at most 30 ID fields (RFC 2971 §3.3)');
      });
      d.end();
      return pairs;
    },
    async run(ctx, pairs) {
      if (pairs.length > 0) ctx.log.info({ clientId: Object.fromEntries(pairs) }, 'client ID');
      await ctx.untagged('ID (', quoted('name'), ' ', quoted('newsfront'), ' ', quoted('vendor'), ' ', quoted('newsfront'), ')');
    },
  }),
  command({
    name: 'ENABLE',
    states: AUTHENTICATED,
    parse(d) {
      const caps: string[] = [];
      while (!d.atEnd()) {
        d.sp();
        caps.push(d.atom().toUpperCase());
      }
      if (caps.length === 0) d.fail('at least one capability');
      return caps;
    },
    async run(ctx, caps) {
      const now: string[] = [];
      for (const c of caps) {
        const ok = ENABLEABLE.has(c) || (ENABLEABLE_PERSISTENT.has(c) && ctx.server.options.persistentFlags);
        if (ok && !ctx.session.enabled.has(c)) {
          ctx.session.enabled.add(c);
          now.push(c === 'IMAP4REV2' ? 'IMAP4rev2' : c);
        }
      }
      await ctx.untagged(now.length ? `ENABLED ${now.join(' ')}` : 'ENABLED');
    },
  }),
];
