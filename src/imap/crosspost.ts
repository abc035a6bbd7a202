/**
 * Crossposts share read marks (DESIGN "State agent model"; like newsreaders
 * with Xref): when this session marks articles \Seen, the same Message-IDs in
 * the other groups they were posted to get \Seen too, for this user, each
 * mailbox with its own modseq, through the same FlagStore — so the user's
 * other sessions hear of it like of any change. On by default
 * (`crosspostSeen` in the config).
 */
import type { Session } from './session.js';
import type { ServerContext } from './context.js';

export async function markSeenElsewhere(server: ServerContext, session: Session, uids: readonly number[]): Promise<void> {
  const sel = session.selected;
  if (!server.options.crosspostSeen || !sel?.handle.crossposts || uids.length === 0) return;
  const targets = await sel.handle.crossposts(uids);
  for (const t of targets) {
    await session.flags!.update({ user: session.user!, mailbox: t.mailbox, uidValidity: t.uidValidity }, t.uids, 'add', ['\\Seen']);
  }
}
