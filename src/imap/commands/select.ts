/**
 * SELECT / EXAMINE / CLOSE / UNSELECT / CHECK (RFC 9051 §6.3.2, §6.3.3, §6.4),
 * with CONDSTORE and QRESYNC select parameters (RFC 7162 §3.1.2, §3.2.5).
 *
 *   C: a1 SELECT comp.lang.misc (QRESYNC (1732345678 41 1:300))
 *   S: * 231 EXISTS
 *   S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
 *   S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags are kept for you
 *   S: * OK [UIDVALIDITY 1732345678] UIDs valid
 *   S: * OK [UIDNEXT 232] Predicted next UID
 *   S: * OK [MAILBOXID (F3c9a…)] Ok         (RFC 8474 §4.1; objectid.ts)
 *   S: * OK [HIGHESTMODSEQ 57] Highest
 *   S: * VANISHED (EARLIER) 12:14
 *   S: * 40 FETCH (UID 44 FLAGS (\Seen) MODSEQ (57))
 *   S: a1 OK [READ-WRITE] SELECT completed
 *
 * Articles are read-only; READ-WRITE only means this session may change its
 * own flags. CLOSE never expunges (EXPUNGE is refused, invariant 3).
 */
import { command, type CommandContext } from '../command.js';
import { AUTHENTICATED, SELECTED } from '../session.js';
import { SelectedMailbox } from '../selected.js';
import { mailbox as encMailbox, quoted, flagList } from '../wire/encoder.js';
import type { Decoder } from '../wire/decoder.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import { bad } from '../errors.js';
import { QRESYNC_CHECK_WAIT_MS } from '../limits.js';
import { flagsLines, uidSetText } from '../updates.js';
import { boundedRefresh } from './any.js';
import { isUnnamable } from '../wire/mutf7.js';
import { echoMailbox, noSuchMailbox } from '../response-text.js';
import { fetchOpen, omitUidItem, uidOnly } from '../uidonly.js';
import { mailboxIdOf } from '../objectid.js';

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids?: SequenceSet;
  /** Sequence match data was given (refused after ENABLE UIDONLY, RFC 9586). */
  seqMatch?: boolean;
}

interface SelectArgs {
  name: string;
  condstore: boolean;
  qresync?: QresyncParams;
}

function parseSelect(d: Decoder): SelectArgs {
  d.sp();
  const a: SelectArgs = { name: d.mailbox(), condstore: false };
  if (!d.atEnd()) {
    d.sp();
    d.list(() => {
      const p = d.atom().toUpperCase();
      if (p === 'CONDSTORE') a.condstore = true;
      else if (p === 'QRESYNC') {
        d.sp();
        d.list(() => {
          const uidValidity = d.nzNumber();
          d.sp();
          const modseq = d.number64();
          const q: QresyncParams = { uidValidity, modseq };
          if (d.maybe(' ')) {
            if (d.peekByte() !== 0x28) {
              q.knownUids = d.sequenceSet();
              if (d.maybe(' ')) {
                d.list(() => d.sequenceSet()); // seq-match-data: accepted, not needed
                q.seqMatch = true;
              }
            } else {
              d.list(() => d.sequenceSet());
              q.seqMatch = true;
            }
          }
          a.qresync = q;
        });
      } else d.fail('CONDSTORE or QRESYNC');
    });
  }
  d.end();
  return a;
}

async function open(ctx: CommandContext, a: SelectArgs, readOnly: boolean) {
  const s = ctx.session;
  const name = a.name;
  if (a.qresync && !s.enabled.has('QRESYNC')) throw bad('CLIENTBUG', 'QRESYNC parameter needs ENABLE QRESYNC first');
  if ((a.condstore || a.qresync) && !ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'CONDSTORE needs a persistent flag store');
  if (a.condstore) s.enabled.add('CONDSTORE');
  s.unselect(); // a failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2)
  if (isUnnamable(name)) throw noSuchMailbox(name);
  const handle = await ctx.server.backend.open(name);
  if (a.qresync) {
    // A client back from offline wants VANISHED to be exact: look for cancels now
    // (bounded wait; a slow upstream finishes in the background, reported later).
    const full = handle.refresh({ full: true });
    await Promise.race([full, new Promise((r) => setTimeout(r, QRESYNC_CHECK_WAIT_MS).unref())]);
  }
  const view = new SelectedMailbox(handle, readOnly);
  const key = { user: s.user!, mailbox: name, uidValidity: view.uidValidity };
  const last = view.uids[view.uids.length - 1] ?? 0;
  let flags;
  try {
    flags = await s.flags!.view(key, 1, last);
  } catch (err) {
    view.close();
    throw err;
  }
  s.select(view);
  view.knownModseq = flags.highestModseq;
  view.learnKeywords(flags.keywords());
  await ctx.untagged(`${view.exists} EXISTS`);
  if (!s.rev2) await ctx.untagged('0 RECENT');
  for (const line of flagsLines(view, s.flags!.persistent, true)) await ctx.untagged(line);
  if (!s.rev2 && !uidOnly(s)) {
    for (let i = 0; i < view.uids.length; i++) {
      if (!flags.has(view.uids[i]!, '\\Seen')) {
        await ctx.untagged(`OK [UNSEEN ${i + 1}] First unseen`);
        break;
      }
    }
  }
  await ctx.untagged(`OK [UIDVALIDITY ${view.uidValidity}] UIDs valid`);
  await ctx.untagged(`OK [UIDNEXT ${view.uidNext}] Predicted next UID`);
  await ctx.untagged(`OK [MAILBOXID (${mailboxIdOf(name, view.uidValidity)})] Ok`);
  if (ctx.server.options.persistentFlags) {
    await ctx.untagged(`OK [HIGHESTMODSEQ ${flags.highestModseq}] Highest`);
  }
  if (s.rev2) await ctx.untagged('LIST () ', quoted('.'), ' ', encMailbox(name, { utf8: s.utf8 }));
  if (a.qresync && a.qresync.uidValidity === view.uidValidity) await resync(ctx, view, a.qresync);
  return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${readOnly ? 'EXAMINE' : 'SELECT'} completed` };
}

/**
 * QRESYNC (RFC 7162 §3.2.5.2): UIDs the client knows that are gone, as
 * VANISHED (EARLIER), then every message changed since the client's modseq.
 */
async function resync(ctx: CommandContext, view: SelectedMailbox, q: QresyncParams): Promise<void> {
  const s = ctx.session;
  const top = Math.max(view.uidNext - 1, 0);
  const known = q.knownUids ? q.knownUids.resolve(top) : top > 0 ? [[1, top] as [number, number]] : [];
  const vanished: number[] = [];
  for (const [lo, hi] of known) for (let u = lo; u <= hi; u++) if (view.seqOf(u) === 0) vanished.push(u);
  if (vanished.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${uidSetText(vanished)}`);
  const changes = await s.flags!.changedSince(s.flagKey(), q.modseq);
  for (const c of changes) {
    const seq = view.seqOf(c.uid);
    if (seq === 0) continue;
    await ctx.write(fetchOpen(s, seq, c.uid), omitUidItem(s) ? '' : `UID ${c.uid} `, 'FLAGS ', flagList(c.flags), ` MODSEQ (${c.modseq}))\r\n`);
  }
}

export const selectCommands = [
  command({ name: 'SELECT', states: AUTHENTICATED, parse: parseSelect, run: (ctx, a) => open(ctx, a, false), subject: (a) => echoMailbox(a.name) }),
  command({ name: 'EXAMINE', states: AUTHENTICATED, parse: parseSelect, run: (ctx, a) => open(ctx, a, true), subject: (a) => echoMailbox(a.name) }),
  command({
    name: 'CLOSE',
    states: SELECTED,
    parse: (d) => d.end(),
    async run(ctx) {
      ctx.session.unselect();
    },
  }),
  command({
    name: 'UNSELECT',
    states: SELECTED,
    parse: (d) => d.end(),
    async run(ctx) {
      ctx.session.unselect();
    },
  }),
  command({
    name: 'CHECK',
    states: SELECTED,
    parse: (d) => d.end(),
    async run(ctx) {
      await boundedRefresh(ctx, ctx.session.selected!.handle);
    },
  }),
];
