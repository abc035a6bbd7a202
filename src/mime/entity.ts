/**
 * One open MIME entity while StructureParser (./structure.ts) reads an article:
 * its header bytes being collected, what kind of body follows, and the counts
 * that become the finished MimePart (size, lines, RFC 3516 decoded size).
 * The parser finds lines and boundaries; these functions turn what it finds
 * into the part tree. Same tolerance and limits as the parser (see there).
 *
 * Memory: the header of an entity is kept only up to MAX_HEADER_BYTES and
 * dropped once parsed; a body is counted, never kept.
 */
import { chunkDecoderFor, isKnownEncoding, type ChunkDecoder } from './decode.js';
import { envelopeOf, type Envelope } from './envelope.js';
import { FieldNames, parseHeader } from './header.js';
import { MAX_BOUNDARY_LEN, MAX_DEPTH, MAX_HEADER_BYTES } from './limits.js';
import { describePart, makeOpaque, paramOf, syntheticPart, type BodyKind, type MimePart } from './part.js';

const EOL_BUF = [Buffer.alloc(0), Buffer.from('\n'), Buffer.from('\r\n')] as const;

export interface Frame {
  part: MimePart;
  state: 'header' | 'body';
  hdr: Buffer[];
  hdrLen: number;
  kind: BodyKind;
  /** "--" + boundary, for a multipart whose body is being read. */
  boundary: Buffer | null;
  /** The close delimiter was seen: the rest is epilogue. */
  final: boolean;
  depth: number;
  inDigest: boolean;
  lfAtBodyStart: number;
  /** Decoder counting BINARY.SIZE (base64 / quoted-printable leaves only). */
  dec: ChunkDecoder | null;
  decoded: number;
  /** Line end of the last body line, not yet known to belong to the body. */
  pendingEol: Buffer | null;
  /** For the encapsulated message of a message/rfc822 part: that part. */
  owner: MimePart | null;
  envelope: Envelope | null;
}

/** An entity whose header starts at `headerStart`; `owner`: the message/rfc822 part it is the message of. */
export function newFrame(headerStart: number, depth: number, inDigest: boolean, owner: MimePart | null): Frame {
  const part = syntheticPart(headerStart);
  delete part.synthetic;
  return {
    part,
    state: 'header',
    hdr: [],
    hdrLen: 0,
    kind: 'leaf',
    boundary: null,
    final: false,
    depth,
    inDigest,
    lfAtBodyStart: 0,
    dec: null,
    decoded: 0,
    pendingEol: null,
    owner,
    envelope: null,
  };
}

/**
 * The blank line ending the header was read; the body starts at `bodyStart`
 * after `lfCount` line ends. Sets `f.kind`: 'multipart' (with its boundary),
 * 'message' (the caller opens the encapsulated message at `bodyStart`) or
 * 'leaf' (with a decoder when BINARY.SIZE needs one).
 */
export function endFrameHeader(f: Frame, bodyStart: number, lfCount: number): void {
  describe(f);
  f.state = 'body';
  f.part.bodyStart = bodyStart;
  f.lfAtBodyStart = lfCount;
  const p = f.part;
  if (p.type === 'multipart') {
    const boundary = paramOf(p, 'boundary');
    if (boundary !== undefined && boundary !== '' && boundary.length <= MAX_BOUNDARY_LEN && f.depth < MAX_DEPTH) {
      f.kind = 'multipart';
      f.boundary = Buffer.from('--' + boundary, 'utf8');
      return;
    }
    makeOpaque(p);
  } else if (p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global')) {
    const identity = p.encoding === '7BIT' || p.encoding === '8BIT' || p.encoding === 'BINARY';
    if (identity && f.depth < MAX_DEPTH) {
      f.kind = 'message';
      return;
    }
    makeOpaque(p);
  }
  f.kind = 'leaf';
  const enc = p.encoding;
  if (isKnownEncoding(enc) && (enc === 'BASE64' || enc === 'QUOTED-PRINTABLE')) f.dec = chunkDecoderFor(enc);
}

/** The fields `describePart` reads: a part's other fields (Path, Xref, References…) are skipped unparsed. */
const MIME_FIELDS = new FieldNames([
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'content-language',
  'content-id',
  'content-description',
  'content-location',
  'content-md5',
]);

/** Parses the collected header into the part's descriptive members (and envelope). */
function describe(f: Frame): void {
  const block = f.hdr.length === 1 ? f.hdr[0]! : Buffer.concat(f.hdr);
  f.hdr = [];
  // an encapsulated message's header also gives its envelope: every field then
  const fields = f.owner !== null ? parseHeader(block) : parseHeader(block, MIME_FIELDS);
  const d = describePart(fields, f.inDigest);
  const p = f.part;
  Object.assign(p, { ...d, headerStart: p.headerStart, bodyStart: p.bodyStart, bodyEnd: p.bodyEnd });
  if (f.owner !== null) f.envelope = envelopeOf(fields);
}

/**
 * The entity ends at `end`, with `lfAtEnd` line ends before it; `eof`: at the
 * end of the article. Completes sizes and counts, and hands an encapsulated
 * message to its owner part.
 */
export function closeFrame(f: Frame, end: number, lfAtEnd: number, eof: boolean): void {
  const p = f.part;
  if (f.state === 'header') {
    // No blank line: all header, empty body.
    describe(f);
    const at = Math.max(p.headerStart, end);
    p.bodyStart = at;
    p.bodyEnd = at;
    if (p.type === 'multipart') p.parts = [syntheticPart(at)];
    else if (p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global')) makeOpaque(p);
    p.size = 0;
    p.lines = 0;
    p.decodedSize = isKnownEncoding(p.encoding) ? 0 : null;
  } else {
    p.bodyEnd = Math.max(p.bodyStart, end);
    p.size = p.bodyEnd - p.bodyStart;
    p.lines = p.size === 0 ? 0 : Math.max(0, lfAtEnd - f.lfAtBodyStart);
    if (f.kind === 'leaf') {
      if (f.dec !== null) {
        if (eof) flushPending(f);
        f.decoded += f.dec.end().length;
        p.decodedSize = f.decoded;
      } else {
        p.decodedSize = isKnownEncoding(p.encoding) ? p.size : null;
      }
    } else {
      // Containers are sent as is by BINARY[n] (RFC 3516 §4.2): decoded size = size.
      const identity = p.encoding === '7BIT' || p.encoding === '8BIT' || p.encoding === 'BINARY';
      p.decodedSize = identity ? p.size : null;
      if (f.kind === 'multipart' && (p.parts === undefined || p.parts.length === 0)) p.parts = [syntheticPart(p.bodyEnd)];
    }
  }
  if (f.owner !== null) f.owner.message = { envelope: f.envelope ?? envelopeOf([]), body: p };
}

/** Line content (no line end) belonging to the entity: header bytes are kept, body bytes counted. */
export function frameContent(f: Frame, bytes: Buffer): void {
  if (bytes.length === 0) return;
  if (f.state === 'header') {
    const room = MAX_HEADER_BYTES - f.hdrLen;
    if (room <= 0) return;
    const keep = bytes.length > room ? bytes.subarray(0, room) : bytes;
    f.hdr.push(Buffer.from(keep));
    f.hdrLen += keep.length;
  } else if (f.dec !== null) {
    flushPending(f);
    f.decoded += f.dec.count !== undefined ? f.dec.count(bytes) : f.dec.update(bytes).length;
  }
}

/**
 * A line end (1: LF, 2: CRLF). In a body it is held back: the line end before
 * a boundary belongs to the boundary, not to the body (RFC 2046 §5.1.1).
 */
export function frameEol(f: Frame, eol: 1 | 2): void {
  const bytes = EOL_BUF[eol];
  if (f.state === 'header') {
    frameContent(f, bytes);
  } else if (f.dec !== null) {
    flushPending(f);
    f.pendingEol = bytes;
  }
}

function flushPending(f: Frame): void {
  if (f.pendingEol !== null && f.dec !== null) {
    f.decoded += f.dec.count !== undefined ? f.dec.count(f.pendingEol) : f.dec.update(f.pendingEol).length;
  }
  f.pendingEol = null;
}

/**
 * Whole body lines at once (`bytes`: complete lines, line ends included; the
 * last line end is `eol` bytes long): the same as frameContent and frameEol
 * line by line, since the decoder's output does not depend on how its input is
 * split. The last line end is held back like frameEol's.
 */
export function frameLines(f: Frame, bytes: Buffer, eol: 1 | 2): void {
  if (f.state !== 'body' || f.dec === null) return;
  flushPending(f);
  const content = bytes.subarray(0, bytes.length - eol);
  if (content.length > 0) f.decoded += f.dec.count !== undefined ? f.dec.count(content) : f.dec.update(content).length;
  f.pendingEol = EOL_BUF[eol];
}
