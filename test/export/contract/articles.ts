/**
 * The articles every Source and Backend implementation is checked with
 * (./source.ts, ./backend.ts), and how to lay them out as an mbox archive.
 * Each set is named by a prefix, so several sets can live on one INN: groups
 * `<prefix>.one`, `<prefix>.two` (crossposted article in both) and
 * `<prefix>.empty` (no articles).
 *
 * What they exercise: a plain body, a crosspost, dot-first lines and a lone
 * "." line (NNTP dot-stuffing), 8-bit bytes, "From " lines (mboxrd quoting),
 * an empty body, and a ~300 KB multipart with a base64 part (streamed in many
 * chunks; a MIME structure with offsets). All are CRLF and acceptable to INN
 * (no NUL, no bare CR/LF, dates in the past).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatMboxrdMessage } from '../../../src/export/archive/mboxrd-writer.js';

export interface FixtureArticle {
  messageId: string;
  groups: string[];
  subject: string;
  bytes: Buffer;
}

export interface FixtureSet {
  /** Every group of the set, including the empty one. */
  groups: string[];
  one: string;
  two: string;
  empty: string;
  /** In injection order: a group's article numbers follow this order (1, 2, ...). */
  articles: FixtureArticle[];
}

/** One article; `n` makes the Message-ID and the date. Header and body are latin1 bytes. */
export function fixtureArticle(prefix: string, n: number, groups: string[], subject: string, body: string, extra: string[] = []): FixtureArticle {
  const messageId = `<${prefix}.${n}@contract.test>`;
  const head = [
    'Path: origin!not-for-mail',
    `From: Poster ${n} <p${n}@example.org>`,
    `Newsgroups: ${groups.join(',')}`,
    `Subject: ${subject}`,
    `Date: ${new Date(Date.UTC(2024, 0, 1, 0, n)).toUTCString()}`,
    `Message-ID: ${messageId}`,
    ...extra,
  ];
  return { messageId, groups, subject, bytes: Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1') };
}

function bigMultipart(): { extra: string[]; body: string } {
  const boundary = 'contract-boundary-7';
  const bytes = Buffer.alloc(220 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 9)) & 0xff;
  const b64 = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
  const body = [
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The attachment follows.',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="data.bin"',
    '',
    b64.endsWith('\r\n') ? b64.slice(0, -2) : b64,
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { extra: ['MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`], body };
}

export function fixtureSet(prefix: string): FixtureSet {
  const one = `${prefix}.one`;
  const two = `${prefix}.two`;
  const big = bigMultipart();
  return {
    groups: [one, two, `${prefix}.empty`],
    one,
    two,
    empty: `${prefix}.empty`,
    articles: [
      fixtureArticle(prefix, 1, [one], 'plain', 'plain body\r\n'),
      fixtureArticle(prefix, 2, [one, two], 'crossposted', 'in two groups\r\n'),
      fixtureArticle(prefix, 3, [one], 'dots', '.starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n'),
      fixtureArticle(prefix, 4, [one], '8-bit caf\xe9', '8-bit \xe9\xe8\xff bytes\r\n'),
      fixtureArticle(prefix, 5, [two], 'big multipart', big.body, big.extra),
      fixtureArticle(prefix, 6, [one], 'from lines', 'From the start\r\n>From quoted once\r\nFrom again\r\n'),
      fixtureArticle(prefix, 7, [one], 'empty body', ''),
    ],
  };
}

/** The articles of `group`, in number order (number = index + 1 on a fresh server or archive). */
export function articlesOf(set: FixtureSet, group: string): FixtureArticle[] {
  return set.articles.filter((a) => a.groups.includes(group));
}

/** Writes `<dir>/<group>.mbox` for every group of `groups` (an empty file for a group without articles). */
export async function writeArchive(dir: string, set: FixtureSet, groups: string[] = set.groups): Promise<void> {
  await mkdir(dir, { recursive: true });
  const date = new Date(Date.UTC(2024, 0, 1));
  for (const g of groups) {
    const mbox = Buffer.concat(articlesOf(set, g).map((a) => formatMboxrdMessage(a.bytes, 'poster@example.org', date)));
    await writeFile(join(dir, `${g}.mbox`), mbox);
  }
}

/** What an archive holding `groups` of `set` serves: numbers are positions in each file. */
export function archiveExpected(set: FixtureSet, groups: string[] = set.groups): Map<string, (FixtureArticle & { number: number })[]> {
  return new Map(groups.map((g) => [g, articlesOf(set, g).map((a, i) => ({ ...a, number: i + 1 }))]));
}
