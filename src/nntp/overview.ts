/**
 * Parsing of OVER/XOVER lines (RFC 3977 §8.3.2, §8.4):
 *
 *   3000234<TAB>Subject<TAB>From<TAB>Date<TAB><msg-id><TAB>References<TAB>bytes<TAB>lines<TAB>Xref: host g:1
 *
 * The first seven fields after the number are fixed; further fields come from
 * LIST OVERVIEW.FMT, full ones ("Xref:full") carry their header name. Field
 * bytes are kept raw in `raw`; the string fields are UTF-8 decodings for
 * convenience (exact bytes: use `raw`).
 */
import type { OverLine } from './types.js';

const TAB = 0x09;

function splitTabs(line: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const t = line.indexOf(TAB, pos);
    if (t < 0) {
      out.push(line.subarray(pos));
      return out;
    }
    out.push(line.subarray(pos, t));
    pos = t + 1;
  }
}

function toInt(b: Buffer | undefined): number {
  if (!b) return 0;
  const n = Number(b.toString('latin1').trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

const XREF_PREFIX = /^xref:\s?/i;

/** Parse one overview line; undefined if it has no valid article number (skipped). */
export function parseOverLine(line: Buffer): OverLine | undefined {
  const fields = splitTabs(line);
  const numText = fields[0]!.toString('latin1');
  if (!/^[0-9]{1,20}$/.test(numText)) return undefined;
  const number = Number(numText);
  if (!Number.isSafeInteger(number)) return undefined;
  const raw = fields.slice(1);
  const s = (i: number) => (raw[i] ? raw[i]!.toString('utf8') : '');
  const rec: OverLine = {
    number,
    subject: s(0),
    from: s(1),
    date: s(2),
    messageId: s(3),
    references: s(4),
    bytes: toInt(raw[5]),
    lines: toInt(raw[6]),
    raw,
  };
  for (let i = 7; i < raw.length; i++) {
    const text = raw[i]!.toString('utf8');
    if (XREF_PREFIX.test(text)) {
      rec.xref = text.replace(XREF_PREFIX, '');
      break;
    }
  }
  return rec;
}

/** Parse one HDR/XHDR line "number value"; undefined if malformed (skipped). */
export function parseHdrLine(line: Buffer): { number: number; value: Buffer } | undefined {
  const sp = line.indexOf(0x20);
  const numText = (sp < 0 ? line : line.subarray(0, sp)).toString('latin1');
  if (!/^[0-9]{1,20}$/.test(numText)) return undefined;
  const number = Number(numText);
  if (!Number.isSafeInteger(number)) return undefined;
  return { number, value: sp < 0 ? Buffer.alloc(0) : line.subarray(sp + 1) };
}
