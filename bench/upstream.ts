/**
 * What the upstream itself can do, measured with our NntpClient against the
 * INN of this run: ARTICLE pipelined and one at a time, OVER of the group,
 * OVER + HEAD of every article (the upstream cost of an exact ENVELOPE list),
 * and the large article alone. These are the foundation rows and the
 * denominators of the IMAP rows' ratios.
 *
 * Every function opens its own NntpClient and quits it before returning (or
 * throwing). Article streams are always read to the end.
 */
import type { Readable } from 'node:stream';
import { NntpClient } from '../src/nntp/client.js';

/** TARGETS.md: "ARTICLE with 100 commands in flight". */
export const PIPELINE_WINDOW = 100;
/** Deepest pipeline the config allows (MAX_PIPELINE_WINDOW): small answers (HEAD) need it to escape delayed-ACK stalls. */
export const WIDE_WINDOW = 1_000;
/** Calls issued ahead of the one being read: more than the window, so the connection never idles. */
const ISSUE_AHEAD = 400;

export interface Transfer {
  seconds: number;
  articles: number;
  bytes: number;
}

async function drain(stream: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

/**
 * Silence from INN the bench waits out (the client's default is 60 s): right
 * after injecting the 1M corpus, on a loaded machine, INN's OVER of the group
 * sent nothing for over a minute and the whole `--huge` run failed there.
 */
const BENCH_COMMAND_TIMEOUT_MS = 600_000;

async function withClient<T>(port: number, window: number, fn: (c: NntpClient) => Promise<T>): Promise<T> {
  const c = await NntpClient.connect({ host: '127.0.0.1', port, pipelineWindow: window, commandTimeoutMs: BENCH_COMMAND_TIMEOUT_MS });
  try {
    return await fn(c);
  } finally {
    await c.quit();
  }
}

/** ARTICLE for each number in `numbers`, `window` in flight (1 ⇒ one at a time). */
export function articles(port: number, group: string, numbers: readonly number[], window: number): Promise<Transfer> {
  return withClient(port, window, async (c) => {
    await c.group(group);
    const ahead = window === 1 ? 1 : ISSUE_AHEAD;
    const t0 = performance.now();
    let bytes = 0;
    const queue: Promise<{ stream: Readable }>[] = [];
    let next = 0;
    const issue = (): void => {
      while (next < numbers.length && queue.length < ahead) queue.push(c.article(group, numbers[next++]!));
    };
    issue();
    while (queue.length > 0) {
      const h = await queue.shift()!;
      bytes += await drain(h.stream);
      issue();
    }
    return { seconds: (performance.now() - t0) / 1000, articles: numbers.length, bytes };
  });
}

/** OVER of the whole range in one command. */
export function overAll(port: number, group: string, count: number): Promise<Transfer> {
  return withClient(port, PIPELINE_WINDOW, async (c) => {
    await c.group(group);
    const t0 = performance.now();
    let n = 0;
    for await (const line of c.over(group, [1, count])) n += line.raw.length > 0 ? 1 : 0;
    return { seconds: (performance.now() - t0) / 1000, articles: n, bytes: 0 };
  });
}

/**
 * OVER of the range plus HEAD of every article, `window` HEADs in flight: what
 * an exact ENVELOPE/INTERNALDATE list costs upstream. HEAD answers are small,
 * so with 100 in flight they wait on delayed ACKs; the bench uses WIDE_WINDOW
 * to give the upstream its best figure.
 */
export function overAndHeads(port: number, group: string, count: number, window: number = WIDE_WINDOW): Promise<Transfer> {
  return withClient(port, window, async (c) => {
    await c.group(group);
    const t0 = performance.now();
    let n = 0;
    for await (const line of c.over(group, [1, count])) n += line.raw.length > 0 ? 1 : 0;
    let bytes = 0;
    const queue: Promise<{ head: Buffer }>[] = [];
    let next = 1;
    while (next <= count || queue.length > 0) {
      while (next <= count && queue.length < Math.max(ISSUE_AHEAD, 2 * window)) queue.push(c.head(group, next++));
      bytes += (await queue.shift()!).head.length;
    }
    return { seconds: (performance.now() - t0) / 1000, articles: n, bytes };
  });
}

/** 1..n */
export function range(lo: number, hi: number, skip?: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) if (i !== skip) out.push(i);
  return out;
}
