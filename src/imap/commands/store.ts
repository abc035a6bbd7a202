/**
 * STORE and UID STORE (RFC 9051 §6.4.6). Flags are the user's own marks on
 * public articles; where they live is the FlagStore's business (session-only,
 * or durable before the OK, invariant 4). One `update` gives the flags and
 * modseqs the untagged FETCH responses report; marking \Seen adds one update
 * per other group the articles were crossposted to (crosspost.ts).
 *
 * The session's own change comes back only as the RFCs ask: a FETCH per
 * changed message unless .SILENT; with CONDSTORE on, also when silent, as
 * `(UID u MODSEQ (m))` without FLAGS (RFC 7162 §3.1, §3.1.3). The change
 * feed's copy of it is never announced (SelectedMailbox.own).
 *
 *   C: a1 STORE 2:4 +FLAGS (\Seen)     S: * 2 FETCH (FLAGS (\Seen)) ...
 *   C: a2 UID STORE 9 -FLAGS.SILENT (\Flagged)
 *   C: a3 UID STORE 9 (UNCHANGEDSINCE 40) +FLAGS.SILENT (\Seen)   S: * 4 FETCH (UID 9 MODSEQ (41))
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import type { Decoder } from '../wire/decoder.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import { flagList } from '../wire/encoder.js';
import { resolveSet } from '../sequence.js';
import { bad, no } from '../errors.js';
import type { FlagOp, UpdateResult } from '../../stateagent/flagstore.js';
import { flagsLines, uidSetText } from '../updates.js';
import { markSeenElsewhere } from '../crosspost.js';
import type { Completion } from '../command.js';
import { fetchOpen, omitUidItem } from '../uidonly.js';

interface StoreArgs {
  set: SequenceSet | '$';
  op: FlagOp;
  silent: boolean;
  flags: string[];
  unchangedSince?: number;
}

const OPS: Record<string, FlagOp> = { '+': 'add', '-': 'remove', '': 'set' };

function parseStore(d: Decoder): StoreArgs {
  d.sp();
  const set = d.sequenceSetOrSaved();
  d.sp();
  let unchangedSince: number | undefined;
  if (d.peekByte() === 0x28) {
    d.list(() => {
      const name = d.atom().toUpperCase();
      if (name !== 'UNCHANGEDSINCE') d.fail('UNCHANGEDSINCE');
      d.sp();
      unchangedSince = d.number64();
    });
    d.sp();
  }
  const word = d.atom().toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(word);
  if (!m) d.fail('FLAGS, +FLAGS or -FLAGS');
  d.sp();
  const flags = d.peekByte() === 0x28 ? d.flagList() : (() => {
    const out = [d.flag()];
    while (!d.atEnd()) {
      d.sp();
      out.push(d.flag());
    }
    return out;
  })();
  d.end();
  return { set, op: OPS[m![1]!]!, silent: m![2] !== undefined, flags, unchangedSince };
}

async function runStore(ctx: CommandContext, a: StoreArgs, byUid: boolean): Promise<Completion | void> {
  const s = ctx.session;
  const sel = s.selected!;
  if (sel.readOnly) throw no('READ-ONLY', 'Mailbox was opened with EXAMINE; flags cannot be changed');
  if (a.flags.some((f) => f.toLowerCase() === '\\recent')) throw bad('CLIENTBUG', '\\Recent cannot be stored');
  const store = s.flags!;
  const seqs = resolveSet(sel, a.set, byUid);
  if (seqs.length === 0) return;
  const uids = seqs.map((n) => sel.uidAt(n));
  if (a.unchangedSince !== undefined) {
    if (!ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'UNCHANGEDSINCE needs CONDSTORE');
    s.enabled.add('CONDSTORE');
  }
  const key = s.flagKey();
  const result: UpdateResult = await sel.own(() => store.update(key, uids, a.op, a.flags, { unchangedSince: a.unchangedSince }), !a.silent);
  if (a.op !== 'remove' && a.flags.includes('\\Seen') && ctx.server.options.crosspostSeen) {
    await markSeenElsewhere(ctx.server, s, result.changes.map((c) => c.uid));
  }
  const modified = new Set(result.modified);
  // A keyword the client was not told of gets a new FLAGS first (RFC 9051 §7.3.5), silent or not.
  if (a.op !== 'remove' && result.modified.length < uids.length && sel.learnKeywords(a.flags)) {
    for (const line of flagsLines(sel, store.persistent)) await ctx.untagged(line);
  }
  // Our own changes are reported when not silent; with CONDSTORE a silent STORE still
  // reports each changed message's new MODSEQ, without FLAGS (RFC 7162 §3.1.3). Other
  // sessions' changes come at the end of the command, as after any other (updates.ts).
  if (!a.silent || s.condstore) {
    const changes = result.changes;
    let j = 0;
    for (let i = 0; i < seqs.length; i++) {
      const uid = uids[i]!;
      while (j < changes.length && changes[j]!.uid < uid) j++;
      const c = changes[j];
      if (c?.uid !== uid) continue; // in `modified`: not changed
      const flags = a.silent ? '' : `FLAGS ${flagList(c.flags)}`;
      const ms = s.condstore ? `${flags ? ' ' : ''}MODSEQ (${c.modseq})` : '';
      const uidItem = (byUid || s.condstore) && !omitUidItem(s) ? `UID ${uid}${flags || ms ? ' ' : ''}` : '';
      await ctx.write(fetchOpen(s, seqs[i]!, uid), uidItem, flags, ms, ')\r\n');
    }
  }
  if (modified.size > 0) {
    const set = byUid ? result.modified : seqs.filter((_, i) => modified.has(uids[i]!));
    return { code: `MODIFIED ${uidSetText(set)}`, text: 'Some messages were changed since UNCHANGEDSINCE' };
  }
}

export const storeCommands = [
  command({ name: 'STORE', states: SELECTED, parse: parseStore, run: (ctx, a) => runStore(ctx, a, false), expungeOk: false }),
  command({ name: 'UID STORE', states: SELECTED, parse: parseStore, run: (ctx, a) => runStore(ctx, a, true) }),
];
