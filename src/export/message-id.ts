/**
 * The one rule for the Message-ID under which an article is known in the UID
 * map, shared by every ingest: the backend's (src/export/backend/ingest.ts)
 * and the eager one of `newsfront ingest` (src/app/ingest.ts). Both must give
 * an article the same UID, so neither spells the rule itself.
 *
 * A record whose Message-ID the UID map cannot store (missing, over 511 bytes,
 * control characters: `isStorableMessageId` of src/uidmap) gets a synthetic
 * one derived from group and article number,
 * `<number.group@newsfront.invalid>` (RFC 6761: `.invalid` names no real
 * host), so the article is still listed and keeps its UID while its number does.
 */
import { checkMessageId, storableMessageId, type StorableMessageId } from '../uidmap/index.js';
import type { OverviewRecord } from './source.js';

/** Domain of every Message-ID newsfront makes up. */
export const SYNTHETIC_DOMAIN = 'newsfront.invalid';

/**
 * The Message-ID to hand the UID map for overview record `r` of `group` (see
 * the file comment), checked (its type says so). Throws the UID map's
 * INVALID_INPUT when not even the synthetic one can be stored (a group name
 * near the length limit), as `assign` would.
 */
export function uidMapMessageId(group: string, r: Pick<OverviewRecord, 'number' | 'messageId'>): StorableMessageId {
  return storableMessageId(r.messageId) ?? checkMessageId(`<${r.number}.${group}@${SYNTHETIC_DOMAIN}>`);
}

const SYNTHETIC_SUFFIX = `@${SYNTHETIC_DOMAIN}>`;

/** True for a Message-ID newsfront made up: no upstream knows it, so none can confirm it. */
export function isSyntheticMessageId(messageId: string): boolean {
  return messageId.endsWith(SYNTHETIC_SUFFIX);
}
