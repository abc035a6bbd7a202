/**
 * IMAP session helpers for the bench: open a session (connect + LOGIN +
 * SELECT), read counts out of the untagged responses, run timed rounds.
 * The caller closes every RawImap it gets.
 */
import { RawImap, type CommandResult } from './imap-client.js';

export interface OpenSession {
  client: RawImap;
  /** connect + greeting + LOGIN + SELECT, seconds. */
  seconds: number;
  exists: number;
  uidValidity?: number;
}

/** IMAP quoting for a mailbox name or a search word (both plain ASCII here). */
export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export async function openSession(port: number, mailbox: string, user = 'anonymous', pass = 'x'): Promise<OpenSession> {
  const t0 = performance.now();
  const client = await RawImap.connect('127.0.0.1', port);
  try {
    await client.ok(`LOGIN ${quote(user)} ${quote(pass)}`);
    const sel = await client.ok(`SELECT ${quote(mailbox)}`, { keep: true });
    const seconds = (performance.now() - t0) / 1000;
    return { client, seconds, exists: existsOf(sel), ...uidValidityOf(sel) };
  } catch (err) {
    client.close();
    throw err;
  }
}

export function existsOf(r: CommandResult): number {
  for (const l of r.lines) {
    const m = /^\* (\d+) EXISTS/i.exec(l);
    if (m) return Number(m[1]);
  }
  return NaN;
}

function uidValidityOf(r: CommandResult): { uidValidity?: number } {
  for (const l of r.lines) {
    const m = /\[UIDVALIDITY (\d+)\]/i.exec(l);
    if (m) return { uidValidity: Number(m[1]) };
  }
  return {};
}

/** Numbers in `* SEARCH …` or `* ESEARCH … ALL set` (count of a set like 1:5,9 expanded). */
export function searchHits(r: CommandResult): number {
  let n = 0;
  for (const l of r.lines) {
    const s = /^\* SEARCH(.*)$/i.exec(l);
    if (s) {
      // May end with "(MODSEQ n)" under CONDSTORE.
      n += s[1]!.replace(/\(.*\)/, '').trim().split(/\s+/).filter((x) => /^\d+$/.test(x)).length;
      continue;
    }
    const e = /^\* ESEARCH .* ALL (\S+)/i.exec(l);
    if (e) {
      for (const part of e[1]!.split(',')) {
        const [a, b] = part.split(':').map(Number);
        n += b === undefined ? 1 : Math.abs(b - a!) + 1;
      }
    }
  }
  return n;
}

/** A round longer than this makes one round enough ("medians of 3 where cheap"). */
export const EXPENSIVE_ROUND_S = 5;

/**
 * Run `fn` up to `n` times, one after the other; returns each round's value.
 * `seconds` maps a round's value to its duration (identity by default): after a
 * round longer than EXPENSIVE_ROUND_S no further round is run.
 */
export async function rounds(n: number, fn: (round: number) => Promise<number>, seconds: (v: number) => number = (v) => v): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = await fn(i);
    out.push(v);
    if (seconds(v) > EXPENSIVE_ROUND_S) break;
  }
  return out;
}

/**
 * `word` with the letters picked by the bits of `n` in upper case: the same
 * SEARCH answer (IMAP SEARCH ignores case) under another text, so the
 * server's answer cache (src/search/match-cache.ts) cannot answer a repeat.
 */
export function casedVariant(word: string, n: number): string {
  return [...word].map((ch, k) => ((n >> k) & 1 ? ch.toUpperCase() : ch)).join('');
}
