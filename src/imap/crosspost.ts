/**
 * Crossposts share read marks (DESIGN "State agent model"; like newsreaders
 * with Xref): when this session marks articles \Seen, the same Message-IDs in
 * the other groups they were posted to get \Seen too, for this user, each
 * mailbox with its own modseq, through the same FlagStore — so it works with
 * every store (session, LMDB, agent), and the user's other sessions hear of
 * it like of any change. The backend finds the other groups' UIDs by
 * Message-ID (`MailboxHandle.crossposts`). Only marking travels; clearing
 * \Seen stays in its group. On by default (`crosspostSeen` in the config).
 *
 * Cost: one `update` per other group, all sent at once (with the remote store,
 * N requests in parallel: one round trip of waiting). Rejects with the first
 * failure (a FlagStoreError) after every update has settled.
 */
import type { Session } from './session.js';
import type { ServerContext } from './context.js';

export async function markSeenElsewhere(server: ServerContext, session: Session, uids: readonly number[]): Promise<void> {
  const sel = session.selected;
  if (!server.options.crosspostSeen || !sel?.handle.crossposts || uids.length === 0) return;
  const targets = await sel.handle.crossposts(uids);
  const store = session.flags!;
  const user = session.user!;
  const done = await Promise.allSettled(
    targets.map((t) => store.update({ user, mailbox: t.mailbox, uidValidity: t.uidValidity }, t.uids, 'add', ['\\Seen'])),
  );
  for (const r of done) if (r.status === 'rejected') throw r.reason;
}
