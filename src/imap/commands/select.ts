/**
 * SELECT / EXAMINE / CLOSE / UNSELECT / CHECK (RFC 9051 §6.3.2, §6.3.3, §6.4).
 *
 *   C: a1 SELECT comp.lang.misc
 *   S: * 231 EXISTS
 *   S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
 *   S: * OK [PERMANENTFLAGS ()] Flags last for this session only
 *   S: * OK [UIDVALIDITY 1732345678] UIDs valid
 *   S: * OK [UIDNEXT 232] Predicted next UID
 *   S: a1 OK [READ-WRITE] SELECT completed
 *
 * Articles are read-only; READ-WRITE only means this session may change its
 * own flags. CLOSE never expunges (EXPUNGE is refused, invariant 3).
 */
import { command, type CommandContext } from '../command.js';
import { AUTHENTICATED, SELECTED } from '../session.js';
import { SelectedMailbox } from '../selected.js';
import { mapBackendError } from '../backend-errors.js';
import { mailbox as encMailbox, quoted } from '../wire/encoder.js';
import { SYSTEM_FLAGS } from '../../stateagent/flagstore.js';

async function open(ctx: CommandContext, name: string, readOnly: boolean) {
  const s = ctx.session;
  s.unselect(); // a failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2)
  let handle;
  try {
    handle = await ctx.server.backend.open(name);
  } catch (err) {
    throw mapBackendError(err, name);
  }
  const view = new SelectedMailbox(handle, readOnly);
  const key = { user: s.user!, mailbox: name, uidValidity: view.uidValidity };
  const last = view.uids[view.uids.length - 1] ?? 0;
  let flags;
  try {
    flags = await s.flags!.view(key, 1, last);
  } catch (err) {
    view.close();
    throw mapBackendError(err, name);
  }
  s.select(view);
  const keywords = flags.keywords().filter((k) => !k.startsWith('\\'));
  const all = [...SYSTEM_FLAGS, ...keywords];
  await ctx.untagged(`${view.exists} EXISTS`);
  if (!s.rev2) await ctx.untagged('0 RECENT');
  await ctx.untagged(`FLAGS (${all.join(' ')})`);
  const permanent = s.flags!.persistent ? `${all.join(' ')} \\*` : '';
  await ctx.untagged(
    `OK [PERMANENTFLAGS (${readOnly ? '' : permanent})] `,
    s.flags!.persistent ? 'Flags are kept for you' : 'Flags last for this session only',
  );
  if (!s.rev2) {
    for (let i = 0; i < view.uids.length; i++) {
      if (!flags.has(view.uids[i]!, '\\Seen')) {
        await ctx.untagged(`OK [UNSEEN ${i + 1}] First unseen`);
        break;
      }
    }
  }
  await ctx.untagged(`OK [UIDVALIDITY ${view.uidValidity}] UIDs valid`);
  await ctx.untagged(`OK [UIDNEXT ${view.uidNext}] Predicted next UID`);
  if (s.rev2) await ctx.untagged('LIST () ', quoted('.'), ' ', encMailbox(name, { utf8: s.utf8 }));
  return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${readOnly ? 'EXAMINE' : 'SELECT'} completed` };
}

const parseName = (d: import('../wire/decoder.js').Decoder): string => {
  d.sp();
  const name = d.mailbox();
  d.end();
  return name;
};

export const selectCommands = [
  command({ name: 'SELECT', states: AUTHENTICATED, parse: parseName, run: (ctx, name) => open(ctx, name, false) }),
  command({ name: 'EXAMINE', states: AUTHENTICATED, parse: parseName, run: (ctx, name) => open(ctx, name, true) }),
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
      await ctx.session.selected!.handle.refresh().catch((err) => ctx.log.debug({ err }, 'refresh failed'));
    },
  }),
];
