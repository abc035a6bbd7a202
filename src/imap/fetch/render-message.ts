/**
 * One FETCH response of the bodies path (fetch/bodies.ts) rendered into a
 * ByteWriter — items as the general path writes them — and `LentRun`, the
 * responses of consecutive messages whose bodies the backend lends
 * (`MailboxHandle.lend`), rendered in one synchronous run: no await, promise
 * or closure per message, and the bodies copied once, from the backend's
 * read buffer straight into the output.
 */
import type { FetchItem, Section } from '../wire/fetch-att.js';
import type { ByteWriter } from '../wire/byte-writer.js';
import type { ByteRange, MailboxHandle, MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import type { FlagRunText } from './flag-runs.js';
import { clip, topSection } from './body.js';
import { writeFetchHead, writeFetchTail, writeSnapshotItem } from './listing.js';

/** Room kept for a response's protocol text (head, FLAGS, tail) beside its bodies, when deciding to write a chunk first. */
export const RESPONSE_TEXT = 512;

/** What every response of a batch is rendered with. */
export interface RenderParams {
  handle: MailboxHandle;
  uidOnly: boolean;
  items: readonly FetchItem[];
  condstore: boolean;
  flagText: FlagRunText | undefined;
  flags: FlagView | undefined;
}

const WHOLE: Section = { part: [] };
const TEXT: Section = { part: [], text: 'TEXT' };
const HEADER: Section = { part: [], text: 'HEADER' };

/** The section of the whole message an item names (its `type` is one `bodiesPath` accepted). */
export function sectionOf(item: FetchItem): Section | undefined {
  switch (item.type) {
    case 'RFC822':
      return WHOLE;
    case 'RFC822.TEXT':
      return TEXT;
    case 'RFC822.HEADER':
      return HEADER;
    case 'BODY[]':
      return item.section;
    case 'BINARY':
      return WHOLE;
    default:
      return undefined;
  }
}

/** Name as sent: `BODY[]<0>`, `RFC822`, `BINARY[]`. */
export const nameOf = (item: FetchItem): string => (item.type === 'BODY[]' || item.type === 'BINARY' ? item.name : item.type);

/** True when the section is a byte range of the article (not a header section). */
export const reads = (sec: Section): boolean => sec.part.length === 0 && (sec.text === undefined || sec.text === 'TEXT');

export function rangeOf(sec: Section, meta: MessageMeta, partial: { origin: number; length: number } | undefined): [number, number] {
  return sec.text === 'TEXT' ? clip(meta.header.length, meta.size, partial) : clip(0, meta.size, partial);
}

export const partialOf = (item: FetchItem): { origin: number; length: number } | undefined =>
  item.type === 'BODY[]' || item.type === 'BINARY' ? (item as { partial?: { origin: number; length: number } }).partial : undefined;

/** A body item's literal: `{n}` CRLF (`~{n}` for BINARY) and the bytes. */
export function writeLiteral(w: ByteWriter, item: FetchItem, b: Buffer): void {
  w.ascii(item.type === 'BINARY' ? '~{' : '{').uint(b.length).ascii('}\r\n').bytes(b);
}

/**
 * Renders one message's response into `w`. `body(k, start, end)` writes item
 * k's literal, a non-empty byte range of the article, or returns false: the
 * rendering stops there and returns false (the caller takes back what was
 * rendered). Header sections and empty ranges need no read.
 */
export function renderMessage(w: ByteWriter, r: RenderParams, seq: number, uid: number, meta: MessageMeta, body: (k: number, start: number, end: number) => boolean): boolean {
  const items = r.items;
  writeFetchHead(w, r.uidOnly, seq, uid);
  let sentFlags = false;
  let sentModseq = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    if (k > 0) w.ascii(' ');
    const done = writeSnapshotItem(w, item.type, uid, meta, r.flagText, r.flags);
    if (done !== undefined) {
      sentFlags ||= done === 'FLAGS';
      sentModseq ||= done === 'MODSEQ';
      continue;
    }
    w.ascii(nameOf(item)).ascii(' ');
    const sec = sectionOf(item)!;
    const partial = partialOf(item);
    if (reads(sec)) {
      const [s, e] = rangeOf(sec, meta, partial);
      if (e > s) {
        if (!body(k, s, e)) return false;
        continue;
      }
    }
    // an empty range or a header section, at hand without a read
    const d = topSection(r.handle, { uid, meta }, sec, partial)!;
    if (d.kind === 'nil') w.ascii('NIL');
    else if (d.kind === 'bytes') w.ascii(d.binary && d.bytes.includes(0) ? `~{${d.bytes.length}}\r\n` : `{${d.bytes.length}}\r\n`).bytes(d.bytes);
    else w.ascii(item.type === 'BINARY' ? '~{0}\r\n' : '{0}\r\n');
  }
  writeFetchTail(w, uid, r.condstore && sentFlags && !sentModseq, r.flags);
  return true;
}

/**
 * Renders, from message `i` on, the responses of messages whose bodies are
 * all lent (`MailboxHandle.lend`, of the size the head announces), into
 * `w`, until `w` holds `chunk` octets or more or the next response may not
 * fit its buffer (`full`: ship, then run on), or a message is not lent
 * (not `full`: what was rendered of it is taken back; it goes the other
 * way), or the messages end. A message without a meta is skipped (it
 * vanished). Returns the index of the first message not rendered.
 */
export class LentRun {
  /** Why the last `run` stopped: true when the buffer is full, false at a message not lent or at the end. */
  full = false;
  private uid = 0;
  private k = 0;
  private want = 0;
  private fits = false;

  constructor(
    private readonly w: ByteWriter,
    private readonly r: RenderParams,
    private readonly lend: (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => boolean,
    private readonly chunk: number,
  ) {}

  private readonly use = (b: Buffer): void => {
    if (b.length !== this.want) return; // not what the head announces: the other way
    writeLiteral(this.w, this.r.items[this.k]!, b);
    this.fits = true;
  };

  private readonly body = (k: number, start: number, end: number): boolean => {
    this.k = k;
    this.want = end - start;
    this.fits = false;
    return this.lend(this.uid, { start, end }, this.use) && this.fits;
  };

  run(seqs: readonly number[], uids: readonly number[], metas: ReadonlyMap<number, MessageMeta> | undefined, i: number): number {
    const w = this.w;
    this.full = false;
    for (; i < seqs.length; i++) {
      const uid = uids[i]!;
      const meta = metas?.get(uid);
      if (!meta) continue;
      if (w.length > 0 && (w.length >= this.chunk || w.length + bodyOctets(this.r.items, meta) + RESPONSE_TEXT > w.buffer.length)) {
        this.full = true;
        return i;
      }
      const mark = w.length;
      this.uid = uid;
      let done = false;
      try {
        done = renderMessage(w, this.r, seqs[i]!, uid, meta, this.body);
      } catch {
        // (a vanished article, say) the other way meets it again and answers for it
      }
      if (!done) {
        w.truncate(mark);
        return i;
      }
    }
    return i;
  }
}

/** Octets of the article the items read (what the output needs room for besides RESPONSE_TEXT). */
function bodyOctets(items: readonly FetchItem[], meta: MessageMeta): number {
  let n = 0;
  for (const item of items) {
    const sec = sectionOf(item);
    if (sec === undefined || !reads(sec)) continue;
    const [s, e] = rangeOf(sec, meta, partialOf(item));
    if (e > s) n += e - s;
  }
  return n;
}
