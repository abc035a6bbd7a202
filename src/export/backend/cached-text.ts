/**
 * The searchable text of an article too long for the index to take whole
 * (`index.maxArticleBytes`: the crawler does not download it, only its
 * header) when the article cache holds it anyway — a client read it. Its
 * structure (stored, or parsed from the cached bytes in one streamed pass and
 * stored) tells where the text parts lie; only those ranges are read. The
 * text is exactly what the scan reads (`searchTextOf`, the rule both share),
 * so the index can answer for the article and SEARCH BODY/TEXT no longer
 * reads it on every search (a 57 MB binary posting with a 521-byte text part
 * cost 1–5 ms a search).
 */
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { parseStructureStream, searchTextBytes, searchTextOf, type MimePart } from '../../mime/index.js';

export interface CachedTextDeps {
  /** True when the article cache holds `key`. */
  has(key: string): boolean;
  /** The cached bytes [start, end) of `key`; rejects when it is not cached (any more). */
  open(key: string, start?: number, end?: number): Promise<Readable>;
  structure(key: string): MimePart | undefined;
  putStructure(key: string, part: MimePart): void;
}

/**
 * Header block and search text of cached article `key`, or undefined when it
 * is not cached or its text parts together exceed `maxTextBytes` (it stays
 * scan-only then). Rejects when the cache loses it meanwhile.
 */
export async function cachedText(d: CachedTextDeps, key: string, maxTextBytes: number): Promise<{ header: Buffer; text: string } | undefined> {
  if (!d.has(key)) return undefined;
  let root = d.structure(key);
  if (root === undefined) {
    root = await parseStructureStream((await d.open(key)) as AsyncIterable<Buffer>);
    d.putStructure(key, root);
  }
  if (searchTextBytes(root) > maxTextBytes) return undefined;
  const read = async (start: number, end: number): Promise<Buffer> => buffer(await d.open(key, start, end));
  const header = await read(0, root.bodyStart);
  return { header, text: await searchTextOf(root, read) };
}
