/**
 * Resolving BODY[section]<partial>, RFC822*, BINARY[part]<partial> and
 * BINARY.SIZE for one message into bytes to send (RFC 9051 §6.4.5, RFC 3516).
 *
 * Header-only sections come from the cached header; everything else is a
 * byte range of the article, read from the backend's cache or upstream, so a
 * 1 KB partial of a 40 MB part reads about 1 KB (invariant 6).
 */
import { Readable } from 'node:stream';
import type { ByteRange, ByteSource, MailboxHandle, MessageMeta, MimePart, SectionText } from '../../export/interface.js';
import type { Section } from '../wire/fetch-att.js';
import { chunkDecoderFor, isKnownEncoding, MimeError, partAt, sectionRange, selectFields } from '../../mime/index.js';
import { no } from '../errors.js';
import { echo } from '../response-text.js';

/** Article bytes to send, as the backend has them (MessageReader.bytes): a Buffer at once, or later a Buffer, pieces or a stream. */
export type BodySource = Buffer | ByteSource | Readable;

/** What to send for one body item: NIL, bytes, or article bytes of known size, read when `open` is called. */
export type BodyData =
  | { kind: 'nil' }
  | { kind: 'bytes'; bytes: Buffer; binary: boolean }
  | { kind: 'stream'; size: number; open: () => Buffer | Promise<BodySource>; binary: boolean };

/** Everything about one message a FETCH may need, loaded lazily and once. */
export interface MessageData {
  uid: number;
  meta?: MessageMeta;
  structure?: () => Promise<MimePart>;
}

export function clip(start: number, end: number, partial: { origin: number; length: number } | undefined): [number, number] {
  if (!partial) return [start, end];
  const s = Math.min(start + partial.origin, end);
  return [s, Math.min(s + partial.length, end)];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Bytes [start, end) of the article, opened when the response is written (an empty range: no read). */
export function byteRange(handle: MailboxHandle, uid: number, start: number, end: number, binary = false): BodyData {
  if (end <= start) return { kind: 'bytes', bytes: Buffer.alloc(0), binary };
  const r = { start, end };
  const open = handle.bytes !== undefined ? () => handle.bytes!(uid, r) : () => handle.content(uid, r);
  return { kind: 'stream', size: end - start, open, binary };
}

function sliceBytes(b: Buffer, partial: { origin: number; length: number } | undefined): Buffer {
  const [s, e] = clip(0, b.length, partial);
  return b.subarray(s, e);
}

/** BODY[section]<partial> (also RFC822, RFC822.HEADER, RFC822.TEXT). */
export async function bodySection(
  handle: MailboxHandle,
  msg: MessageData,
  section: Section,
  partial: { origin: number; length: number } | undefined,
): Promise<BodyData> {
  return topSection(handle, msg, section, partial) ?? partSection(handle, msg, section, partial);
}

/**
 * `bodySection` of a section of the whole message (no part number: what the
 * header and the article's size answer), at once; undefined for a part's
 * section, which needs the MIME structure (`bodySection`). No promise per
 * message for a FETCH of many bodies.
 */
export function topSection(
  handle: MailboxHandle,
  msg: MessageData,
  section: Section,
  partial: { origin: number; length: number } | undefined,
): BodyData | undefined {
  const meta = msg.meta!;
  const { part, text } = section;
  if (part.length === 0) {
    switch (text) {
      case undefined: {
        const [s, e] = clip(0, meta.size, partial);
        return byteRange(handle, msg.uid, s, e);
      }
      case 'HEADER':
        return { kind: 'bytes', bytes: sliceBytes(meta.header, partial), binary: false };
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        return {
          kind: 'bytes',
          bytes: sliceBytes(selectFields(meta.header, section.fields ?? [], text === 'HEADER.FIELDS.NOT'), partial),
          binary: false,
        };
      case 'TEXT': {
        const [s, e] = clip(meta.header.length, meta.size, partial);
        return byteRange(handle, msg.uid, s, e);
      }
      default:
        return { kind: 'nil' };
    }
  }
  return undefined;
}

/**
 * The byte range of a part's section, or of its first `want` octets: from
 * the backend while the article may still be downloading (`sectionRange`: a
 * partial of a long part is answered once its bytes are in, not once the
 * whole article is), else from the whole structure. Throws MimeError as `sectionRange`.
 */
async function rangeOf(handle: MailboxHandle, msg: MessageData, part: number[], text: SectionText, want: number): Promise<ByteRange> {
  if (handle.sectionRange !== undefined) return handle.sectionRange(msg.uid, part, text, want);
  return sectionRange(await msg.structure!(), part, text);
}

async function partSection(
  handle: MailboxHandle,
  msg: MessageData,
  section: Section,
  partial: { origin: number; length: number } | undefined,
): Promise<BodyData> {
  const { part, text } = section;
  try {
    if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
      const r = await rangeOf(handle, msg, part, 'HEADER', Infinity);
      const header = await readAll(await handle.content(msg.uid, r));
      return {
        kind: 'bytes',
        bytes: sliceBytes(selectFields(header, section.fields ?? [], text === 'HEADER.FIELDS.NOT'), partial),
        binary: false,
      };
    }
    const r = await rangeOf(handle, msg, part, text ?? '', partial ? partial.origin + partial.length : Infinity);
    const [s, e] = clip(r.start, r.end, partial);
    return byteRange(handle, msg.uid, s, e);
  } catch (err) {
    if (err instanceof MimeError) return { kind: 'nil' };
    throw err;
  }
}

/** The part BINARY[part] names, or undefined when there is none (sent as NIL). */
function binaryPart(root: MimePart, part: number[]): MimePart | undefined {
  try {
    return partAt(root, part);
  } catch (err) {
    if (err instanceof MimeError) return undefined;
    throw err;
  }
}

const isIdentity = (encoding: string): boolean => encoding === '7BIT' || encoding === '8BIT' || encoding === 'BINARY';

/**
 * Octets BINARY sends for part `p` (its BINARY.SIZE). A leaf in 7bit, 8bit or
 * binary, a multipart or a message/rfc822 part is sent as is (RFC 3516 §4.2:
 * only a transfer encoding is undone, and a container has none of its own);
 * base64 and quoted-printable leaves are decoded. Throws NO [UNKNOWN-CTE] for an
 * encoding we cannot decode (also a container declaring one, RFC 2045 §6.4).
 */
function binaryLength(p: MimePart): number {
  const enc = p.encoding.toUpperCase();
  if (isIdentity(enc)) return p.bodyEnd - p.bodyStart;
  const container = p.parts !== undefined || p.message !== undefined;
  if (container || !isKnownEncoding(enc) || p.decodedSize === null) {
    throw no('UNKNOWN-CTE', `Cannot decode ${echo(p.encoding)}${container ? ` of a ${p.type}/${p.subtype} part` : ''}`);
  }
  return p.decodedSize;
}

/**
 * BINARY[part]<partial>: the content of the part after transfer decoding
 * (RFC 3516 §4.2); NIL for a part that does not exist. A partial of a part
 * sent as is may be located in an article still downloading (`binaryRange`).
 */
export async function binarySection(
  handle: MailboxHandle,
  msg: MessageData,
  part: number[],
  partial: { origin: number; length: number } | undefined,
): Promise<BodyData> {
  if (part.length === 0) {
    // BINARY[] is the whole message, which has no transfer encoding of its own.
    const [s, e] = clip(0, msg.meta!.size, partial);
    return byteRange(handle, msg.uid, s, e, true);
  }
  if (partial !== undefined && handle.binaryRange !== undefined) {
    // a partial of an identity-encoded part goes out once its octets are in, as BODY[part]<partial> does
    const r = await handle.binaryRange(msg.uid, part, partial.origin + partial.length);
    if (r !== undefined) {
      const [s, e] = clip(r.start, r.end, partial);
      return byteRange(handle, msg.uid, s, e, true);
    }
  }
  const p = binaryPart(await msg.structure!(), part);
  if (!p) return { kind: 'nil' };
  const size = binaryLength(p);
  if (isIdentity(p.encoding.toUpperCase())) {
    const [s, e] = clip(p.bodyStart, p.bodyEnd, partial);
    return byteRange(handle, msg.uid, s, e, true);
  }
  const [s, e] = clip(0, size, partial);
  return {
    kind: 'stream',
    size: e - s,
    binary: true,
    open: async () => decodedSlice(await handle.content(msg.uid, { start: p.bodyStart, end: p.bodyEnd }), p.encoding, s, e),
  };
}

/** BINARY.SIZE[part]: the length BINARY[part] sends, or null (NIL) for a part that does not exist. */
export async function binarySize(msg: MessageData, part: number[]): Promise<number | null> {
  if (part.length === 0) return msg.meta!.size;
  const p = binaryPart(await msg.structure!(), part);
  return p ? binaryLength(p) : null;
}

/** Decode a transfer-encoded stream and keep decoded octets [start, end). */
function decodedSlice(source: Readable, encoding: string, start: number, end: number): Readable {
  const dec = chunkDecoderFor(encoding);
  let at = 0;
  async function* run(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const out = dec.update(chunk);
        const piece = cut(out);
        if (piece) yield piece;
        if (at >= end) return;
      }
      const piece = cut(dec.end());
      if (piece) yield piece;
    } finally {
      source.destroy();
    }
  }
  function cut(out: Buffer): Buffer | null {
    const from = at;
    at += out.length;
    const s = Math.max(start - from, 0);
    const e = Math.min(end - from, out.length);
    return e > s ? out.subarray(s, e) : null;
  }
  return Readable.from(run(), { objectMode: false });
}
