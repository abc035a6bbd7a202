/** Test helpers for the MIME parser tests. */
import { StructureParser } from '../../../src/mime/structure.js';
import { serializeStructure } from '../../../src/mime/serialize.js';
import type { MimePart } from '../../../src/mime/part.js';

/** Joins lines with CRLF (or `eol`); no line end after the last element. */
export function msg(lines: string[], eol = '\r\n'): Buffer {
  return Buffer.from(lines.join(eol), 'latin1');
}

/** Parses feeding the given chunk boundaries (offsets into buf, ascending). */
export function parseSplit(buf: Buffer, cuts: number[]): MimePart {
  const p = new StructureParser();
  let prev = 0;
  for (const c of cuts) {
    p.push(buf.subarray(prev, c));
    prev = c;
  }
  p.push(buf.subarray(prev));
  return p.end();
}

export function parseChunks(buf: Buffer, size: number): MimePart {
  const cuts: number[] = [];
  for (let i = size; i < buf.length; i += size) cuts.push(i);
  return parseSplit(buf, cuts);
}

/** Offset of `needle` in `buf`, failing loudly when absent or ambiguous. */
export function at(buf: Buffer, needle: string, from = 0): number {
  const i = buf.indexOf(needle, from, 'latin1');
  if (i < 0) throw new Error(`needle not found: ${needle}`);
  return i;
}

export const json = serializeStructure;
