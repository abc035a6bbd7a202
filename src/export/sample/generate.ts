/**
 * The sample archive: a small, deterministic set of newsgroups in mboxrd files,
 * served by `newsfront serve` when nothing else is configured (`npm start`),
 * and committed under `sample/` (tests check the committed files equal this
 * generator's output).
 *
 * Groups and what they exercise:
 * - `sample.announce`: plain ASCII announcements, some crossposted to
 *   `sample.discuss` (same Message-ID in both files, `Newsgroups:` names both);
 * - `sample.discuss`: threads (References chains), quoted-printable Latin-1,
 *   body lines starting with `From ` / `>From ` / `.`, one article without a
 *   Message-ID (gets a synthetic one);
 * - `sample.i18n`: encoded-word headers (RFC 2047 B and Q; UTF-8 and
 *   ISO-8859-1), raw 8-bit Latin-1 and UTF-8 bodies, base64 UTF-8 bodies;
 * - `sample.binaries`: multipart/mixed with base64 attachments and
 *   multipart/alternative text + HTML.
 *
 * Self-contained: no dependency on the test corpus generator. Same output on
 * every run and machine (seeded PRNG, fixed dates).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatMboxrdMessage } from '../archive/mboxrd-writer.js';

export const SAMPLE_SEED = 0x5eed1733;
/** 2024-03-01T08:00:00Z: the first article's date. */
const BASE_TIME = Date.UTC(2024, 2, 1, 8, 0, 0);

/** mulberry32: a tiny deterministic PRNG (not for secrets); also the property tests' generator. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'server client article group thread reply header body cache index offline online disconnected ' +
  'newsreader mailbox uid flag state agent protocol upstream archive message network public read ' +
  'sync stable fast small patch release version bug report test build config question answer'
).split(' ');
const NAMES = ['Alice Example', 'Bob Sample', 'Carol Tester', 'Dave Reader', 'Eve Poster', 'Frank Lurker'];
const LATIN1_NAMES = ['Jürgen Müller', 'François Lefèvre', 'Åsa Sjöström', 'José Núñez'];
const UTF8_LINES = ['Grüße aus München — ein Test.', 'Ελληνικά: καλημέρα κόσμε', 'Русский: привет, мир', '日本語のテキスト、こんにちは', 'Emoji: 📰 ✉️'];
const LATIN1_LINES = ['Ça va très bien, merci.', 'Größe: 5 µm, Preis: 10 £', 'Señor Núñez está aquí.', 'Smørrebrød og æblegrød'];

interface Art {
  groups: string[];
  messageId: string | null;
  from: string;
  subject: string;
  date: Date;
  references: string[];
  extraHeaders: string[];
  /** Body bytes with CRLF line ends. */
  body: Buffer;
}

function dateHeader(d: Date): string {
  // RFC 5322 §3.3 date-time in UTC.
  return d.toUTCString().replace('GMT', '+0000');
}

/** RFC 2047 B-encoded word. */
function encB(text: string, charset: 'UTF-8' | 'ISO-8859-1'): string {
  const bytes = Buffer.from(text, charset === 'UTF-8' ? 'utf8' : 'latin1');
  return `=?${charset}?B?${bytes.toString('base64')}?=`;
}

/** RFC 2047 Q-encoded word. */
function encQ(text: string, charset: 'UTF-8' | 'ISO-8859-1'): string {
  const bytes = Buffer.from(text, charset === 'UTF-8' ? 'utf8' : 'latin1');
  let out = '';
  for (const b of bytes) {
    if (b === 0x20) out += '_';
    else if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) out += String.fromCharCode(b);
    else out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?${charset}?Q?${out}?=`;
}

/** Quoted-printable (RFC 2045 §6.7) of CRLF text bytes; lines here are short, so no soft breaks are needed. */
function qp(bytes: Buffer): Buffer {
  let out = '';
  const lines = bytes.toString('latin1').split('\r\n');
  for (const [i, line] of lines.entries()) {
    let l = '';
    for (let k = 0; k < line.length; k++) {
      const c = line.charCodeAt(k);
      const last = k === line.length - 1;
      if (c === 0x3d || c > 0x7e || ((c === 0x20 || c === 0x09) && last)) l += `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      else l += line[k];
    }
    out += l + (i < lines.length - 1 ? '\r\n' : '');
  }
  return Buffer.from(out, 'latin1');
}

function base64Lines(b: Buffer): string {
  return (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') + '\r\n';
}

function crlf(lines: string[], enc: 'utf8' | 'latin1' = 'utf8'): Buffer {
  return Buffer.from(lines.map((l) => l + '\r\n').join(''), enc);
}

function articleBytes(a: Art): Buffer {
  const h: string[] = [
    'Path: sample.newsfront.invalid!not-for-mail',
    `From: ${a.from}`,
    `Newsgroups: ${a.groups.join(',')}`,
    `Subject: ${a.subject}`,
    `Date: ${dateHeader(a.date)}`,
    'Organization: newsfront sample archive',
  ];
  if (a.messageId !== null) h.push(`Message-ID: ${a.messageId}`);
  if (a.references.length > 0) h.push(`References: ${a.references.join('\r\n ')}`);
  h.push(...a.extraHeaders);
  return Buffer.concat([Buffer.from(h.join('\r\n') + '\r\n\r\n', 'latin1'), a.body]);
}

/**
 * Generate the sample archive: file name (group name + `.mbox`) → mboxrd bytes.
 * Pure and deterministic.
 */
export function generateSampleArchive(): Map<string, Buffer> {
  const rnd = prng(SAMPLE_SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const sentence = (): string => {
    const n = int(5, 12);
    const w = Array.from({ length: n }, () => pick(WORDS));
    return w[0]!.charAt(0).toUpperCase() + w.join(' ').slice(1) + '.';
  };
  const addr = (name: string): string =>
    `${name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]+/g, '.')}@example.org`;
  let clock = BASE_TIME;
  const nextDate = (): Date => {
    clock += int(1, 180) * 60_000;
    return new Date(clock);
  };
  let serial = 0;
  const mid = (): string => `<sample.${++serial}@newsfront.invalid>`;

  const files = new Map<string, Art[]>();
  const post = (a: Art): void => {
    for (const g of a.groups) {
      const list = files.get(g) ?? [];
      list.push(a);
      files.set(g, list);
    }
  };
  const textHeaders = (charset: string, cte: string): string[] => [
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${charset}`,
    `Content-Transfer-Encoding: ${cte}`,
  ];

  // sample.announce: releases, every fifth crossposted to sample.discuss.
  for (let i = 1; i <= 30; i++) {
    const name = pick(NAMES);
    const lines = [`Release 0.${i}.0 is out.`, '', ...Array.from({ length: int(3, 10) }, sentence), '', '-- ', name];
    post({
      groups: i % 5 === 0 ? ['sample.announce', 'sample.discuss'] : ['sample.announce'],
      messageId: mid(),
      from: `${name} <${addr(name)}>`,
      subject: `[ANN] sample 0.${i}.0 released`,
      date: nextDate(),
      references: [],
      extraHeaders: textHeaders('us-ascii', '7bit'),
      body: crlf(lines),
    });
  }

  // sample.discuss: threads with References chains and awkward body lines.
  for (let t = 1; t <= 36; t++) {
    const root = mid();
    const topic = `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`;
    const chain: string[] = [];
    const replies = int(1, 8);
    for (let r = 0; r <= replies; r++) {
      const name = r % 3 === 2 ? pick(LATIN1_NAMES) : pick(NAMES);
      const id = r === 0 ? root : mid();
      const lines = Array.from({ length: int(2, 12) }, sentence);
      if (r > 0) lines.unshift(`> ${sentence()}`, '');
      if ((t + r) % 7 === 0) lines.push('From the department of awkward lines:', '>From here too', '.', '..leading dots');
      const latin = r % 3 === 2;
      const body = latin ? qp(crlf([...lines, pick(LATIN1_LINES)], 'latin1')) : crlf(lines);
      post({
        groups: ['sample.discuss'],
        messageId: t === 13 && r === 1 ? null : id, // one article without Message-ID
        from: latin ? `${encQ(name, 'ISO-8859-1')} <${addr(name)}>` : `${name} <${addr(name)}>`,
        subject: r === 0 ? `Question about ${topic}` : `Re: Question about ${topic}`,
        date: nextDate(),
        references: [...chain],
        extraHeaders: latin ? textHeaders('ISO-8859-1', 'quoted-printable') : textHeaders('us-ascii', '7bit'),
        body,
      });
      chain.push(id);
      if (chain.length > 4) chain.splice(1, 1); // keep root + last few, as newsreaders trim
    }
  }

  // sample.i18n: encoded words and 8-bit bodies.
  for (let i = 1; i <= 60; i++) {
    const kind = i % 4;
    const name = pick(LATIN1_NAMES);
    const date = nextDate();
    let subject: string;
    let from: string;
    let extra: string[];
    let body: Buffer;
    if (kind === 0) {
      subject = encB(`Grüße Nr. ${i} — ${pick(UTF8_LINES)}`, 'UTF-8');
      from = `${encB(name, 'UTF-8')} <${addr(name)}>`;
      extra = textHeaders('UTF-8', '8bit');
      body = crlf([pick(UTF8_LINES), sentence(), pick(UTF8_LINES)]);
    } else if (kind === 1) {
      subject = encQ(`Café Nr. ${i}`, 'ISO-8859-1');
      from = `${encQ(name, 'ISO-8859-1')} <${addr(name)}>`;
      extra = textHeaders('ISO-8859-1', '8bit');
      body = crlf([pick(LATIN1_LINES), sentence(), pick(LATIN1_LINES)], 'latin1');
    } else if (kind === 2) {
      subject = `Mixed ${encQ('naïve', 'UTF-8')} and ${encB('résumé', 'ISO-8859-1')} words ${i}`;
      from = `${name.normalize('NFD').replace(/[^\x20-\x7e]/g, '')} <${addr(name)}>`;
      extra = textHeaders('UTF-8', 'base64');
      body = Buffer.from(base64Lines(crlf([pick(UTF8_LINES), sentence(), pick(UTF8_LINES)])), 'latin1');
    } else {
      // Raw 8-bit UTF-8 in the header, as some servers pass through (RFC 6532 style).
      subject = `Raw UTF-8 subject ${i}: ${pick(UTF8_LINES)}`;
      from = `${name} <${addr(name)}>`;
      extra = textHeaders('UTF-8', '8bit');
      body = crlf([pick(UTF8_LINES), sentence()]);
    }
    const a: Art = { groups: ['sample.i18n'], messageId: mid(), from, subject, date, references: [], extraHeaders: extra, body };
    // Header bytes: UTF-8 for raw UTF-8 subjects, Latin-1 otherwise (names are ASCII or encoded there).
    post(a);
  }

  // sample.binaries: multipart with base64 attachments.
  for (let i = 1; i <= 20; i++) {
    const name = pick(NAMES);
    const boundary = `=_sample_${i}_boundary`;
    const payload = Buffer.alloc(int(512, 6144));
    for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(rnd() * 256);
    const alt = i % 4 === 0;
    const parts = alt
      ? [
          `--${boundary}`,
          'Content-Type: text/plain; charset=us-ascii',
          '',
          sentence(),
          `--${boundary}`,
          'Content-Type: text/html; charset=us-ascii',
          '',
          `<p>${sentence()}</p>`,
          `--${boundary}--`,
        ]
      : [
          'This is a multi-part message in MIME format.',
          `--${boundary}`,
          'Content-Type: text/plain; charset=us-ascii',
          'Content-Transfer-Encoding: 7bit',
          '',
          `Attached: data-${i}.bin (${payload.length} bytes).`,
          `--${boundary}`,
          `Content-Type: application/octet-stream; name="data-${i}.bin"`,
          'Content-Transfer-Encoding: base64',
          `Content-Disposition: attachment; filename="data-${i}.bin"`,
          '',
          base64Lines(payload).replace(/\r\n$/, ''),
          `--${boundary}--`,
        ];
    post({
      groups: ['sample.binaries'],
      messageId: mid(),
      from: `${name} <${addr(name)}>`,
      subject: alt ? `HTML and text ${i}` : `data-${i}.bin (1/1)`,
      date: nextDate(),
      references: [],
      extraHeaders: ['MIME-Version: 1.0', `Content-Type: multipart/${alt ? 'alternative' : 'mixed'}; boundary="${boundary}"`],
      body: crlf(parts),
    });
  }

  const out = new Map<string, Buffer>();
  for (const [group, arts] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.set(
      `${group}.mbox`,
      Buffer.concat(
        arts.map((a) => {
          const bytes = a.subject.startsWith('Raw UTF-8') ? utf8Header(a) : articleBytes(a);
          return formatMboxrdMessage(bytes, /<([^>]+)>/.exec(a.from)?.[1] ?? 'sample@newsfront.invalid', a.date);
        }),
      ),
    );
  }
  return out;
}

/** An article whose header holds raw UTF-8 (the Latin-1 path would mangle it). */
function utf8Header(a: Art): Buffer {
  const asLatin1 = articleBytes({ ...a, subject: 'X', from: 'X' }).toString('latin1');
  const fixed = asLatin1.replace('\r\nFrom: X\r\n', `\r\nFrom: ${Buffer.from(a.from, 'utf8').toString('latin1')}\r\n`)
    .replace('\r\nSubject: X\r\n', `\r\nSubject: ${Buffer.from(a.subject, 'utf8').toString('latin1')}\r\n`);
  return Buffer.from(fixed, 'latin1');
}

/** Write the sample archive into `dir` (created if needed). Returns the file names written. */
export async function writeSampleArchive(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = generateSampleArchive();
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return [...files.keys()];
}
