/**
 * The text SEARCH BODY reads of an article, from its structure and a reader of
 * its byte ranges: the decoded text leaves (`searchTextLeaves`), each cut at
 * MAX_SEARCH_PART_BYTES, joined by '\n'. One rule for the scan (which reads the
 * ranges from the article cache), the index (the whole article in memory) and
 * an article too long to download whole for the index but cached (its text
 * parts read alone).
 */
import { textForSearch } from './decode.js';
import { MAX_SEARCH_PART_BYTES, searchTextLeaves, type MimePart } from './part.js';

/** `read(start, end)` gives the article's bytes [start, end). */
export async function searchTextOf(root: MimePart, read: (start: number, end: number) => Buffer | Promise<Buffer>): Promise<string> {
  const out: string[] = [];
  for (const leaf of searchTextLeaves(root)) {
    const end = Math.min(leaf.bodyEnd, leaf.bodyStart + MAX_SEARCH_PART_BYTES);
    if (end <= leaf.bodyStart) continue;
    out.push(textForSearch(leaf, await read(leaf.bodyStart, end)));
  }
  return out.join('\n');
}

/** Bytes `searchTextOf` reads: the sum of its ranges. */
export function searchTextBytes(root: MimePart): number {
  let n = 0;
  for (const leaf of searchTextLeaves(root)) n += Math.max(0, Math.min(leaf.bodyEnd, leaf.bodyStart + MAX_SEARCH_PART_BYTES) - leaf.bodyStart);
  return n;
}
