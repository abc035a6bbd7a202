/**
 * One message under SEARCH's scan (./evaluate.ts): its header fields and body
 * text, each computed once and only when a key needs it, and the date rules of
 * SENTBEFORE/SENTON/SENTSINCE and BEFORE/ON/SINCE (RFC 9051 §6.4.4: calendar
 * days, "disregarding time and timezone").
 */
import type { MessageMeta } from '../../export/interface.js';
import { decodeHeaderValue, findField, parseHeader, searchTextOf, type HeaderField } from '../../mime/index.js';
import type { ImapDate } from '../wire/decoder.js';
import type { SelectedMailbox } from '../selected.js';

/** Articles up to this size are read whole once for BODY/TEXT, rather than part by part. */
const WHOLE_READ_LIMIT = 256 * 1024;

/** One message under test; the expensive parts are computed once, on demand. */
export class Candidate {
  private fields?: HeaderField[];
  private text?: Promise<string>;
  constructor(
    /** Position in the search's scope (scope.ts). */
    readonly pos: number,
    readonly seq: number,
    readonly uid: number,
    readonly meta: MessageMeta | undefined,
    private readonly sel: SelectedMailbox,
  ) {}

  headerFields(): HeaderField[] {
    if (!this.meta) throw new Error('search: header data asked for but not read');
    return (this.fields ??= parseHeader(this.meta.header));
  }

  headerText(name: string): string[] {
    return this.headerFields()
      .filter((f) => f.lname === name)
      .map((f) => decodeHeaderValue(f.value));
  }

  bodyText(): Promise<string> {
    return (this.text ??= this.loadBody());
  }

  private async loadBody(): Promise<string> {
    const root = await this.sel.handle.structure(this.uid);
    // A small article is read once, whole; the text parts are cut from it.
    const whole = root.bodyEnd <= WHOLE_READ_LIMIT ? await this.read(0, root.bodyEnd) : undefined;
    return searchTextOf(root, (start, end) => (whole ? whole.subarray(start, end) : this.read(start, end)));
  }

  private async read(start: number, end: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of (await this.sel.handle.content(this.uid, { start, end })) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }
}

export function dayNumber(d: ImapDate): number {
  return Date.UTC(d.year, d.month - 1, d.day) / 86_400_000;
}

/** The calendar day of a Date header in its own zone ("disregarding time and timezone"). */
export function sentDay(c: Candidate): number | undefined {
  const f = findField(c.headerFields(), 'date');
  if (!f) return undefined;
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(f.value.toString('latin1'));
  if (!m) return undefined;
  const month = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(m[2]!.toLowerCase());
  if (month < 0) return undefined;
  let year = Number(m[3]);
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  return Date.UTC(year, month, Number(m[1])) / 86_400_000;
}

export function compareDay(day: number | undefined, op: 'before' | 'on' | 'since', target: number): boolean {
  if (day === undefined) return false;
  return op === 'before' ? day < target : op === 'on' ? day === target : day >= target;
}
