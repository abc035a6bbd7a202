/**
 * MailboxHandle.crossposts: the same articles in other groups (one
 * Message-ID posted to several groups, known from Xref at ingest), as UIDs
 * there, for the groups whose UID map knows the article.
 */
import type { CrosspostTarget } from '../interface.js';
import type { UidMapStore } from '../../uidmap/index.js';
import type { MetaStore } from './meta-store.js';

export interface CrosspostDeps {
  uidmaps: UidMapStore;
  meta: MetaStore;
  mailboxName: (group: string) => string;
}

/** Other groups' UIDs of `uids` of `group`, found by Message-ID; never throws for unknown UIDs. */
export async function crosspostsOf(d: CrosspostDeps, group: string, uids: readonly number[]): Promise<CrosspostTarget[]> {
  if (!d.meta.hasCrossposts(group)) return []; // no per-article lookups for a group without any
  const here = await d.uidmaps.open(group);
  const byGroup = new Map<string, number[]>();
  for (const uid of uids) {
    const messageId = here.lookup(uid)?.messageId;
    const groups = messageId === undefined ? undefined : d.meta.crossposts(messageId);
    if (!groups) continue;
    for (const g of groups) {
      if (g === group) continue;
      let list = byGroup.get(g);
      if (!list) byGroup.set(g, (list = []));
      list.push(uid);
    }
  }
  const out: CrosspostTarget[] = [];
  const exported = new Set(d.uidmaps.mailboxes());
  for (const [g, mine] of byGroup) {
    if (!exported.has(g)) continue; // never opened here: no UIDs to mark yet
    const there = await d.uidmaps.open(g);
    const theirs: number[] = [];
    for (const uid of mine) {
      const u = there.uidOf(here.lookup(uid)!.messageId);
      if (u !== undefined) theirs.push(u);
    }
    if (theirs.length > 0) out.push({ mailbox: d.mailboxName(g), uidValidity: there.uidValidity, uids: theirs.sort((a, b) => a - b) });
  }
  return out;
}
