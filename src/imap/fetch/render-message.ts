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
    writeAtHand(w, r, item, uid, meta, sec, partial);
  }
  writeFetchTail(w, uid, r.condstore && sentFlags && !sentModseq, r.flags);
  return true;
}

/** A body item that needs no read (an empty range or a header section): its value, NIL or an empty literal. */
function writeAtHand(w: ByteWriter, r: RenderParams, item: FetchItem, uid: number, meta: MessageMeta, sec: Section, partial: { origin: number; length: number } | undefined): void {
  const d = topSection(r.handle, { uid, meta }, sec, partial)!;
  if (d.kind === 'nil') w.ascii('NIL');
  else if (d.kind === 'bytes') w.ascii(d.binary && d.bytes.includes(0) ? `~{${d.bytes.length}}\r\n` : `{${d.bytes.length}}\r\n`).bytes(d.bytes);
  else w.ascii(item.type === 'BINARY' ? '~{0}\r\n' : '{0}\r\n');
}

/** What `LentRun` does for one item, decided once per command. */
const UID = 0;
const FLAGS = 1;
const MODSEQ = 2;
const SIZE = 3;
/** A byte range of the whole article (BODY[], BODY[TEXT], RFC822, BINARY[], partials): lent, unless empty. */
const RANGE = 4;
/** A header section: at hand (`writeAtHand`). */
const AT_HAND = 5;

/** One item as `LentRun` renders it: `op`, and for the others its name as sent with the space before and after. */
interface Step {
  op: number;
  item: FetchItem;
  /** `BODY[] ` (with a space before it unless first), ready to copy. */
  name: Buffer;
  sec: Section;
  partial: { origin: number; length: number } | undefined;
  /** RANGE of BODY[TEXT] / RFC822.TEXT: it starts after the header. */
  text: boolean;
}

/**
 * Renders, from message `i` on, the responses of messages whose bodies are
 * all lent (`MailboxHandle.lend`, of the size the head announces), into
 * `w`, until `w` holds `chunk` octets or more or the next response may not
 * fit its buffer (`full`: ship, then run on), or a message is not lent
 * (not `full`: what was rendered of it is taken back; it goes the other
 * way), or the messages end. A message without a meta is skipped (it
 * vanished). Returns the index of the first message not rendered.
 *
 * The same bytes as `renderMessage`, with what depends on the items only
 * (each item's name, section and range rule) worked out once in the
 * constructor, so a message costs one loop over small steps: this path runs
 * ~1,000 times a command, mostly before V8 has optimised it (a fresh
 * process), so little code per message is what makes it fast then.
 */
export class LentRun {
  /** Why the last `run` stopped: true when the buffer is full, false at a message not lent or at the end. */
  full = false;
  private readonly steps: Step[] = [];
  /** RANGE steps, each of the whole article (no partial, not TEXT): the room a response needs beside its text is this many times the article. */
  private readonly wholes: number = 0;
  /** False when a RANGE step is a partial or TEXT (`octets` works the room out per message). */
  private readonly allWhole: boolean = true;
  private k = 0;
  private want = 0;
  private fits = false;

  constructor(
    private readonly w: ByteWriter,
    private readonly r: RenderParams,
    private readonly lend: (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => boolean,
    private readonly chunk: number,
  ) {
    let wholes = 0;
    let allWhole = true;
    r.items.forEach((item, k) => {
      const sep = k > 0 ? ' ' : '';
      const op = item.type === 'UID' ? UID : item.type === 'FLAGS' ? FLAGS : item.type === 'MODSEQ' ? MODSEQ : item.type === 'RFC822.SIZE' ? SIZE : undefined;
      const sec = sectionOf(item) ?? WHOLE;
      const partial = partialOf(item);
      if (op !== undefined) {
        this.steps.push({ op, item, name: Buffer.from(sep, 'latin1'), sec, partial, text: false });
        return;
      }
      const range = sectionOf(item) !== undefined && reads(sec);
      if (range && (partial !== undefined || sec.text === 'TEXT')) allWhole = false;
      else if (range) wholes++;
      this.steps.push({ op: range ? RANGE : AT_HAND, item, name: Buffer.from(`${sep}${nameOf(item)} `, 'latin1'), sec, partial, text: sec.text === 'TEXT' });
    });
    this.wholes = wholes;
    this.allWhole = allWhole;
  }

  /** Octets of the article the response of `meta` reads (what the output needs room for besides RESPONSE_TEXT). */
  private octets(meta: MessageMeta): number {
    if (this.allWhole) return this.wholes * meta.size;
    let n = 0;
    for (const st of this.steps) {
      if (st.op !== RANGE) continue;
      const [s, e] = st.text ? clip(meta.header.length, meta.size, st.partial) : clip(0, meta.size, st.partial);
      if (e > s) n += e - s;
    }
    return n;
  }

  private readonly use = (b: Buffer): void => {
    if (b.length !== this.want) return; // not what the head announces: the other way
    writeLiteral(this.w, this.steps[this.k]!.item, b);
    this.fits = true;
  };

  run(seqs: readonly number[], uids: readonly number[], metas: ReadonlyMap<number, MessageMeta> | undefined, i: number): number {
    const w = this.w;
    this.full = false;
    for (; i < seqs.length; i++) {
      const uid = uids[i]!;
      const meta = metas?.get(uid);
      if (meta === undefined) continue;
      if (w.length > 0 && (w.length >= this.chunk || w.length + this.octets(meta) + RESPONSE_TEXT > w.buffer.length)) {
        this.full = true;
        return i;
      }
      const mark = w.length;
      let lent = false;
      try {
        lent = this.message(seqs[i]!, uid, meta);
      } catch {
        // (a vanished article, say) the other way meets it again and answers for it
      }
      if (!lent) {
        w.truncate(mark);
        return i;
      }
    }
    return i;
  }

  /** Renders one response; false when a body was not lent (the caller takes back what was rendered). */
  private message(seq: number, uid: number, meta: MessageMeta): boolean {
    const w = this.w;
    const r = this.r;
    const steps = this.steps;
    writeFetchHead(w, r.uidOnly, seq, uid);
    let sentFlags = false;
    let sentModseq = false;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k]!;
      w.bytes(st.name);
      switch (st.op) {
        case UID:
          w.ascii('UID ').uint(uid);
          break;
        case FLAGS:
          w.bytes(r.flagText!.of(uid));
          sentFlags = true;
          break;
        case MODSEQ:
          w.ascii(`MODSEQ (${r.flags!.modseqOf(uid)})`);
          sentModseq = true;
          break;
        case SIZE:
          w.ascii('RFC822.SIZE ').uint(meta.size);
          break;
        case RANGE: {
          // `rangeOf`, without an array per message
          let s = st.text ? meta.header.length : 0;
          let e = meta.size;
          if (st.partial !== undefined) {
            s = Math.min(s + st.partial.origin, e);
            e = Math.min(s + st.partial.length, e);
          }
          if (e > s) {
            this.k = k;
            this.want = e - s;
            this.fits = false;
            if (!this.lend(uid, { start: s, end: e }, this.use) || !this.fits) return false;
          } else writeAtHand(w, r, st.item, uid, meta, st.sec, st.partial);
          break;
        }
        default:
          writeAtHand(w, r, st.item, uid, meta, st.sec, st.partial);
      }
    }
    writeFetchTail(w, uid, r.condstore && sentFlags && !sentModseq, r.flags);
    return true;
  }
}
