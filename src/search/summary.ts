/** What `SearchIndex.summary` and `SearchIndex.inspect` report (index.ts), and the file sizes they read. */
import { statSync } from 'node:fs';

/** What an index holds, for an operator (`newsfront status`, the ops listener's /status). */
export interface IndexSummary {
  /** The index file. */
  path: string;
  /** Bytes on disk: the database and its write-ahead log. */
  bytes: number;
  /** Documents: articles indexed (one crossposted to several groups is one). */
  documents: number;
  /** Each mailbox generation: members with headers indexed, and of them those with the body indexed (or marked scan-only). */
  mailboxes: { name: string; uidValidity: number; headers: number; bodies: number }[];
}

/** Bytes of `path` and its write-ahead log (0 for a file that is not there). */
export function diskBytes(path: string): number {
  let total = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      total += statSync(p).size;
    } catch {
      /* not there */
    }
  }
  return total;
}
