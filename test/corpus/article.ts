/**
 * Build one corpus article (exact CRLF bytes + the metadata a correct parser must
 * reproduce). Called by `generate.ts` with all choices that need cross-article
 * state (Message-ID, groups, parent, date) already made.
 */
import type { Prng } from './prng.js';
import { charsetBytes, encodeHeaderText, foldField, type Charset, type WordEncoding } from './encode.js';
import { render, type LeafSpec, type MimeSpec } from './mime.js';
import { paragraph, subjectText, zipfWord, type TextFlavour } from './text.js';
import type { ArticleMeta, BodyKind, CorpusArticle } from './types.js';

export interface Poster {
  /** Display name (Unicode), absent for a bare address. */
  name?: string;
  address: string;
  /** angle: `Name <a>`; quoted: `"Name" <a>`; paren: `a (Name)`; bare: `a`; raw: raw UTF-8 `Name <a>`. */
  style: 'angle' | 'quoted' | 'paren' | 'bare' | 'raw';
  /** For non-ASCII names in angle style: how to encode. */
  charset: Charset;
  enc: WordEncoding;
}

export interface ParentInfo {
  messageId: string;
  subject: string;
  references: string[];
  poster: Poster;
  date: string;
}

export interface ArticleInput {
  index: number;
  messageId: string;
  groups: string[];
  poster: Poster;
  dateMs: number;
  parent?: ParentInfo;
  kind: BodyKind;
  flavour: TextFlavour;
  /** kind 'large': decoded attachment size. */
  largeAttachmentBytes?: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ZONES: readonly [string, number, string][] = [
  ['+0000', 0, 'UTC'], ['+0100', 60, 'CET'], ['+0200', 120, 'CEST'], ['-0500', -300, 'EST'],
  ['-0800', -480, 'PST'], ['+0530', 330, 'IST'], ['+0900', 540, 'JST'],
];
const SITES = ['news.example.net', 'feeder.example.org', 'uunet', 'news.isp.example', 'border1.example.com', 'news-out.example.de'];
const AGENTS = ['tin/2.6.2 (Linux)', 'slrn/1.0.3 (Linux)', 'Mozilla Thunderbird 115.3', 'Gnus/5.13 (Gnus v5.13)', 'Forte Agent 8.00/32.1186', 'knews 1.0b.1', 'trn 4.0-test77'];
const ORGS = ['Example University', 'Example ISP Ltd.', 'The Usenet Preservation Society', 'Compagnie Exemple S.A.'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** An RFC 5322 date in one of three common netnews styles, for the instant `ms`. */
export function formatDate(rng: Prng, ms: number): string {
  const [zone, offMin, abbr] = rng.pick(ZONES);
  const d = new Date(ms + offMin * 60_000);
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const day = d.getUTCDate();
  const style = rng.int(10);
  if (style < 7) return `${DAYS[d.getUTCDay()]}, ${pad2(day)} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} ${zone}`;
  if (style < 9) return `${DAYS[d.getUTCDay()]}, ${day} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} ${zone} (${abbr})`;
  return offMin === 0 ? `${day} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} GMT` : `${day} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} ${zone}`;
}

/** The From field (raw tokens) and its decoded value. */
function fromField(p: Poster): { field: string; decoded: string; raw8: boolean } {
  const nonAscii = p.name !== undefined && /[^\x20-\x7e]/.test(p.name);
  switch (p.style) {
    case 'bare':
      return { field: foldField('From', [p.address]), decoded: p.address, raw8: false };
    case 'paren':
      return { field: foldField('From', [p.address, `(${p.name})`]), decoded: `${p.address} (${p.name})`, raw8: false };
    case 'quoted':
      return { field: foldField('From', [`"${p.name}"`, `<${p.address}>`]), decoded: `"${p.name}" <${p.address}>`, raw8: false };
    case 'raw':
      return { field: `From: ${p.name} <${p.address}>\r\n`, decoded: `${p.name} <${p.address}>`, raw8: nonAscii };
    default: {
      const toks = nonAscii ? encodeHeaderText(p.name!, p.charset, p.enc) : p.name!.split(' ');
      return { field: foldField('From', [...toks, `<${p.address}>`]), decoded: `${p.name} <${p.address}>`, raw8: false };
    }
  }
}

function subjectField(rng: Prng, subject: string, flavour: TextFlavour): { field: string; raw8: boolean } {
  if (!/[^\x20-\x7e]/.test(subject)) return { field: foldField('Subject', subject.split(' ')), raw8: false };
  if (rng.chance(0.03)) return { field: `Subject: ${subject}\r\n`, raw8: true };
  const latin1Ok = !/[^\x00-\xff]/.test(subject);
  const charset: Charset = flavour === 'latin1' && latin1Ok ? 'iso-8859-1' : latin1Ok && rng.chance(0.2) ? 'iso-8859-1' : 'utf-8';
  const enc: WordEncoding = rng.chance(0.5) ? 'Q' : 'B';
  const label = rng.chance(0.3) ? charset : charset.toUpperCase();
  return { field: foldField('Subject', encodeHeaderText(subject, charset, enc, label)), raw8: false };
}

/** Main text lines (Unicode strings); vocabulary words drawn go to `words`. */
function textLines(rng: Prng, input: ArticleInput, words: string[]): string[] {
  const lines: string[] = [];
  // Names go into the body only if the body's charset can carry them.
  const limit = input.flavour === 'ascii' ? 0x7e : input.flavour === 'latin1' ? 0xff : 0x10ffff;
  const nameOf = (p: Poster): string => (p.name !== undefined && [...p.name].every((c) => c.codePointAt(0)! <= limit) ? p.name : p.address);
  if (rng.chance(0.01)) lines.push('...and another thing, before I forget.');
  if (input.parent) {
    lines.push(`On ${input.parent.date}, ${nameOf(input.parent.poster)} wrote:`);
    const q = rng.range(1, 3);
    for (let i = 0; i < q; i++) for (const l of paragraph(rng, 'ascii', words)) lines.push(`> ${l}`);
    lines.push('');
  }
  const paras = rng.range(1, 4);
  for (let i = 0; i < paras; i++) {
    if (i > 0) lines.push('');
    for (const l of paragraph(rng, input.flavour, words)) lines.push(rng.chance(0.01) ? `${l}  ` : l);
  }
  if (rng.chance(0.05)) {
    // Lines that are dot-stuffed on the wire, including a lone '.'.
    const at = rng.int(lines.length + 1);
    lines.splice(at, 0, rng.pick(['.', '..', '...', '.signature follows', '. indented', '.hidden file']));
  }
  if (rng.chance(0.02)) lines.push(`http://www.example.org/${Array.from({ length: 40 }, () => zipfWord(rng)).join('/')}`);
  if (rng.chance(0.5)) lines.push('-- ', nameOf(input.poster));
  return lines;
}

function toContent(lines: string[], charset: Charset | 'us-ascii'): Buffer {
  const text = `${lines.join('\r\n')}\r\n`;
  return charset === 'us-ascii' ? Buffer.from(text, 'latin1') : charsetBytes(text, charset);
}

function attachment(rng: Prng, words: string[]): LeafSpec {
  const kind = rng.int(5);
  const size = Math.floor(Math.exp(Math.log(200) + rng.float() * (Math.log(12_000) - Math.log(200))));
  const file = `${zipfWord(rng)}-${rng.hex(4)}`;
  if (kind === 0) {
    const lines = [`--- a/${file}.c`, `+++ b/${file}.c`, '@@ -1,3 +1,4 @@'];
    for (let i = 0; i < 8; i++) {
      const ws = Array.from({ length: rng.range(3, 9) }, () => zipfWord(rng));
      words.push(...ws);
      lines.push(`${rng.pick(['+', '-', ' '])}${ws.join(' ')}`);
    }
    return { kind: 'leaf', type: 'text', subtype: 'x-diff', params: { charset: 'us-ascii' }, encoding: '7bit', disposition: 'inline', filename: `${file}.diff`, content: toContent(lines, 'us-ascii') };
  }
  const [type, subtype, ext, magic] = rng.pick([
    ['application', 'octet-stream', 'bin', ''],
    ['image', 'png', 'png', '\x89PNG\r\n\x1a\n'],
    ['application', 'pdf', 'pdf', '%PDF-1.4\n'],
    ['application', 'zip', 'zip', 'PK\x03\x04'],
  ] as const);
  const content = Buffer.concat([Buffer.from(magic, 'latin1'), rng.bytes(size)]);
  return { kind: 'leaf', type, subtype, encoding: 'base64', disposition: 'attachment', filename: `${file}.${ext}`, content };
}

function html(lines: string[]): string[] {
  return ['<html><body>', '<p>', ...lines.map((l) => (l === '' ? '</p><p>' : l.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'))), '</p>', '</body></html>'];
}

function boundary(rng: Prng): string {
  return rng.pick(['----=_Part_', '=-=-=', 'nextPart', '------------']) + rng.hex(24);
}

/** The MIME spec of the body for `kind`. */
function bodySpec(rng: Prng, input: ArticleInput, lines: string[], charset: Charset | 'us-ascii', words: string[]): MimeSpec {
  const params = { charset };
  const plain = (encoding: LeafSpec['encoding']): LeafSpec => ({ kind: 'leaf', type: 'text', subtype: 'plain', params, encoding, content: toContent(lines, charset), declareEncoding: rng.chance(0.5) });
  const textEnc: LeafSpec['encoding'] = charset === 'us-ascii' ? '7bit' : rng.chance(0.5) ? '8bit' : 'quoted-printable';
  const htmlPart = (): LeafSpec => ({ kind: 'leaf', type: 'text', subtype: 'html', params, encoding: charset === 'us-ascii' ? '7bit' : 'quoted-printable', content: toContent(html(lines), charset) });
  const alt = (): MimeSpec => ({ kind: 'multipart', subtype: 'alternative', boundary: boundary(rng), children: [plain(textEnc), htmlPart()] });
  const mixed = (children: MimeSpec[]): MimeSpec => ({
    kind: 'multipart', subtype: 'mixed', boundary: boundary(rng), children,
    ...(rng.chance(0.7) ? { preamble: 'This is a multi-part message in MIME format.' } : {}),
    ...(rng.chance(0.1) ? { epilogue: 'epilogue text\r\n' } : {}),
  });
  switch (input.kind) {
    case 'plain':
      return plain(charset === 'us-ascii' ? '7bit' : '8bit');
    case 'qp':
      return plain('quoted-printable');
    case 'base64-text':
      return plain('base64');
    case 'alternative':
      return alt();
    case 'mixed':
      return mixed([plain(textEnc), attachment(rng, words), ...(rng.chance(0.3) ? [attachment(rng, words)] : [])]);
    case 'nested':
      return mixed([alt(), attachment(rng, words)]);
    case 'related': {
      const cid = `<img-${rng.hex(12)}@example.org>`;
      const img: LeafSpec = { kind: 'leaf', type: 'image', subtype: 'gif', encoding: 'base64', disposition: 'inline', filename: 'logo.gif', contentId: cid, content: Buffer.concat([Buffer.from('GIF89a', 'latin1'), rng.bytes(rng.range(100, 2000))]) };
      const related: MimeSpec = { kind: 'multipart', subtype: 'related', boundary: boundary(rng), children: [htmlPart(), img] };
      return mixed([{ kind: 'multipart', subtype: 'alternative', boundary: boundary(rng), children: [plain(textEnc), related] }, attachment(rng, words)]);
    }
    case 'rfc822': {
      const inner: string[] = [];
      const innerLines = paragraph(rng, 'ascii', words);
      inner.push(`From: ${input.poster.address}`, `Subject: ${zipfWord(rng)} ${zipfWord(rng)}`, `Date: ${formatDate(rng, input.dateMs - 86_400_000)}`, `Message-ID: <fwd-${rng.hex(12)}@example.org>`, 'MIME-Version: 1.0');
      return mixed([plain(textEnc), { kind: 'message', header: `${inner.join('\r\n')}\r\n`, body: { kind: 'leaf', type: 'text', subtype: 'plain', params: { charset: 'us-ascii' }, encoding: '7bit', content: toContent(innerLines, 'us-ascii') } }]);
    }
    case 'large': {
      const n = input.largeAttachmentBytes ?? 20 * 1024 * 1024;
      return mixed([plain(textEnc), { kind: 'leaf', type: 'application', subtype: 'octet-stream', encoding: 'base64', disposition: 'attachment', filename: `large-${n}.bin`, content: rng.bytes(n) }]);
    }
  }
}

export function buildArticle(rng: Prng, input: ArticleInput): CorpusArticle {
  const words: string[] = [];
  const charset = input.flavour === 'latin1' ? 'iso-8859-1' : input.flavour === 'utf8' ? 'utf-8' : 'us-ascii';
  const subject = input.parent ? (/^Re: /i.test(input.parent.subject) ? input.parent.subject : `Re: ${input.parent.subject}`) : input.kind === 'large' ? 'Large binary posting (1/1)' : subjectText(rng, input.flavour);
  const lines = textLines(rng, input, words);
  const spec = bodySpec(rng, input, lines, charset, words);
  // Old-style articles: plain text without any MIME header (also with raw 8-bit text).
  const mime = !(input.kind === 'plain' && (charset === 'us-ascii' ? rng.chance(0.7) : rng.chance(0.4)));
  const r = render(spec, '', true, mime);
  const from = fromField(input.poster);
  const subj = subjectField(rng, subject, input.flavour);
  const date = formatDate(rng, input.dateMs);
  const refs = input.parent ? [...input.parent.references.slice(-9), input.parent.messageId] : [];
  const bodyLines = countCrlf(r.body);
  let h = `Path: ${rng.pick(SITES)}!${rng.pick(SITES)}!not-for-mail\r\n${from.field}${foldField('Newsgroups', [input.groups.join(',')])}${subj.field}`;
  h += `Date: ${date}\r\n`;
  if (rng.chance(0.4)) h += `Organization: ${rng.pick(ORGS)}\r\n`;
  if (rng.chance(0.15)) h += `Lines: ${bodyLines}\r\n`;
  h += `Message-ID: ${input.messageId}\r\n`;
  if (refs.length > 0) h += foldField('References', refs);
  if (input.groups.length > 1 && rng.chance(0.5)) h += `Followup-To: ${input.groups[0]}\r\n`;
  if (mime) h += `MIME-Version: 1.0\r\n${r.header}`;
  if (rng.chance(0.5)) h += `${rng.chance(0.5) ? 'User-Agent' : 'X-Newsreader'}: ${rng.pick(AGENTS)}\r\n`;
  if (rng.chance(0.03)) h += `X-Face: ${rng.hex(60)}\r\n\t${rng.hex(60)}\r\n\t${rng.hex(30)}\r\n`;
  if (rng.chance(0.01)) h += 'X-No-Archive: yes\r\n';
  const header = Buffer.from(`${h}\r\n`, 'utf8');
  const bytes = Buffer.concat([header, r.body]);
  const meta: ArticleMeta = {
    index: input.index,
    subject,
    from: from.decoded,
    fromAddress: input.poster.address,
    date,
    dateMs: Math.floor(input.dateMs / 1000) * 1000,
    references: refs,
    bodyWords: [...new Set(words)],
    parts: r.meta,
    hasLeadingDotLines: r.body[0] === 0x2e || r.body.includes('\r\n.'),
    bodyStartsWithDot: r.body[0] === 0x2e,
    charset,
    mime,
    kind: input.kind,
    rawUtf8Header: from.raw8 || subj.raw8,
    headerBytes: header.length,
    size: bytes.length,
    bodyLines,
  };
  if (input.poster.name !== undefined && input.poster.style !== 'bare') meta.fromName = input.poster.name;
  return { messageId: input.messageId, groups: input.groups, bytes, meta };
}

function countCrlf(b: Buffer): number {
  let n = 0;
  for (let at = b.indexOf('\r\n'); at >= 0; at = b.indexOf('\r\n', at + 2)) n++;
  return n;
}
