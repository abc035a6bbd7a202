/**
 * The MIME structure of a cached article in whichever form the article cache
 * hands it out (GroupReader.bytes): a Buffer, a ByteSource read in pieces, or
 * a stream. A source or stream is closed at the end, also on error.
 */
import type { Readable } from 'node:stream';
import type { ByteSource } from '../interface.js';
import { parseStructure, parseStructureStream, StructureParser, type MimePart } from '../../mime/index.js';

/** The MIME structure of article bytes as `bytes` hands them out; a source or stream is closed at the end. */
export async function parseSource(src: Buffer | ByteSource | Readable): Promise<MimePart> {
  if (Buffer.isBuffer(src)) return parseStructure(src);
  if ('pipe' in src) {
    try {
      return await parseStructureStream(src);
    } finally {
      src.destroy();
    }
  }
  try {
    const p = new StructureParser(); // copies what it keeps: one buffer serves every piece
    const piece = Buffer.allocUnsafe(Math.min(src.size, READ_PIECE));
    for (;;) {
      const n = await src.read(piece);
      if (n === 0) break;
      p.push(piece.subarray(0, n));
    }
    return p.end();
  } finally {
    src.close();
  }
}
/** Bytes per read of a long cached article parsed for its structure. */
const READ_PIECE = 256 * 1024;
