/**
 * The key each message of one mbox file is known by in the UID map (the
 * overview's Message-ID): distinct for every message of the file, and stable
 * while the file is only appended to.
 *
 * A message's base key is its Message-ID, or for a message without one a
 * synthetic `<sha1-of-article-bytes@newsfront.invalid>` (computed by the
 * index, ./index-file.ts). The first message of the file with a given base key
 * is known by it; the n-th (n ≥ 2) by `<n.sha1(base)@newsfront.invalid>`. That
 * derived key is itself counted as a key, so should an earlier message carry it
 * in its header, the derivation is applied again. A key depends only on the
 * messages before it, so appending never changes an earlier one; a restart
 * computes the same keys from the same bytes. Rewriting the file (dropping an
 * earlier duplicate) may renumber later duplicates: their UIDs change meaning
 * only as far as the file's own content did.
 *
 * Why: the UID map keeps one UID per key, so two messages with one key would be
 * listed as one (issue 12: six messages, `5 EXISTS`). NNTP sources are not
 * concerned: a news server refuses a second article with a known Message-ID.
 *
 * Memory: one Map slot per distinct key of the file (the strings are those the
 * index keeps anyway).
 */
import { createHash } from 'node:crypto';

/** Domain of synthetic Message-IDs (RFC 6761 reserves `.invalid`). */
export const SYNTHETIC_ID_DOMAIN = 'newsfront.invalid';

/** Synthetic Message-ID of a message without one, from the SHA-1 of its article bytes (hex). */
export function syntheticId(sha1Hex: string): string {
  return `<${sha1Hex}@${SYNTHETIC_ID_DOMAIN}>`;
}

function derived(base: string, n: number): string {
  return `<${n}.${createHash('sha1').update(base, 'latin1').digest('hex')}@${SYNTHETIC_ID_DOMAIN}>`;
}

export class FileKeys {
  /** Key → how many messages so far had it as base key or as a step of their derivation. */
  private counts = new Map<string, number>();
  /** Keys counted for the last message, so it can be taken back when it is scanned again. */
  private lastCounted: string[] = [];

  /** Forget every message (the file is scanned from its start). */
  reset(): void {
    this.counts = new Map();
    this.lastCounted = [];
  }

  /**
   * Take back the last message given a key (the index scans it again, as it may
   * have been incomplete). Only the last one can be taken back, once.
   */
  retractLast(): void {
    for (const k of this.lastCounted) {
      const c = this.counts.get(k)!;
      if (c <= 1) this.counts.delete(k);
      else this.counts.set(k, c - 1);
    }
    this.lastCounted = [];
  }

  /** The key of the next message of the file, whose base key is `base`. */
  next(base: string): string {
    const counted: string[] = [];
    let key = base;
    for (;;) {
      const n = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, n);
      counted.push(key);
      if (n === 1) break;
      key = derived(key, n);
    }
    this.lastCounted = counted;
    return key;
  }
}
