/**
 * Group names ⇄ mailbox names, and the mailbox tree (DESIGN "Names").
 *
 * A group `comp.lang.misc` is the mailbox `comp.lang.misc`, or
 * `#news.comp.lang.misc` with namespace prefix `#news.`; its parents `comp` and
 * `comp.lang` are listed as non-selectable (`\Noselect`) unless they are groups
 * themselves. With a prefix, the prefix itself (`#news`) is listed as a
 * non-selectable parent too, so `LIST "" "%"` shows where the groups are.
 * INBOX is always present, selectable, empty and childless.
 */
import type { MailboxEntry } from '../interface.js';

export const INBOX = 'INBOX';

/** Normalises a configured prefix: '' stays '', `#news` and `#news.` both become `#news.`. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  return prefix.endsWith('.') ? prefix : prefix + '.';
}

/** True when `name` is INBOX (case-insensitive, RFC 9051 §5.1). */
export function isInbox(name: string): boolean {
  return name.toUpperCase() === INBOX;
}

/** The group named by mailbox `name`, or undefined when `name` lies outside the prefix. */
export function groupOfMailbox(name: string, prefix: string): string | undefined {
  if (prefix === '') return name;
  if (!name.startsWith(prefix) || name.length === prefix.length) return undefined;
  return name.slice(prefix.length);
}

export function mailboxOfGroup(group: string, prefix: string): string {
  return prefix + group;
}

/**
 * The mailbox tree for `groups`: INBOX first, then every name sorted
 * (code-unit order). Empty components (`a..b`) are kept as written.
 */
export function mailboxTree(groups: Iterable<string>, prefix: string): MailboxEntry[] {
  const entries = new Map<string, MailboxEntry>();
  const touch = (name: string): MailboxEntry => {
    let e = entries.get(name);
    if (e === undefined) {
      e = { name, selectable: false, hasChildren: false };
      entries.set(name, e);
    }
    return e;
  };
  const root = prefix === '' ? undefined : prefix.slice(0, -1);
  for (const group of groups) {
    const full = mailboxOfGroup(group, prefix);
    touch(full).selectable = true;
    // Parents: every proper prefix ending before a '.' inside the group part (and the namespace root).
    let at = full.length;
    for (;;) {
      at = full.lastIndexOf('.', at - 1);
      if (at < 0) break;
      const parent = full.slice(0, at);
      if (parent.length < (root?.length ?? 1)) break;
      touch(parent).hasChildren = true;
      if (at === 0) break;
    }
  }
  entries.delete(INBOX);
  const list = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [{ name: INBOX, selectable: true, hasChildren: false }, ...list];
}
