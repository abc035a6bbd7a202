/**
 * An in-memory `Source` for backend tests: groups of generated articles with
 * NNTP-like numbering (gaps after expiry, new articles at high+1), call
 * counters per method, switchable failure, and a gate that holds article
 * streams open so tests can start concurrent readers mid-download.
 *
 * Article bytes are delivered in small chunks (CHUNK bytes) so consumers meet
 * awkward chunk boundaries.
 */
import { Readable } from 'node:stream';
import { findField, parseHeader, headerEnd } from '../../../src/mime/header.js';
import { SourceError, type GroupInfo, type OverviewRecord, type Source } from '../../../src/export/source.js';

const CHUNK = 1000;

export type Calls = Record<'listGroups' | 'groupInfo' | 'articleNumbers' | 'overview' | 'article' | 'head', number>;

interface Group {
  articles: Map<number, Buffer>;
  /** Next number to assign. */
  next: number;
}

export interface ArticleSpec {
  messageId?: string;
  subject?: string;
  from?: string;
  date?: string;
  body?: string | Buffer;
  extraHeaders?: string[];
}

/** A CRLF article from `spec` (defaults filled in from `n`). */
export function makeArticle(n: number, spec: ArticleSpec = {}): Buffer {
  const h = [
    `From: ${spec.from ?? `Poster ${n} <p${n}@example.org>`}`,
    `Subject: ${spec.subject ?? `article ${n}`}`,
    `Date: ${spec.date ?? new Date(Date.UTC(2024, 0, 1) + n * 60_000).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${spec.messageId ?? `<a${n}.${Math.random().toString(36).slice(2)}@example.org>`}`,
    'Newsgroups: test.group',
    ...(spec.extraHeaders ?? []),
  ];
  const body = spec.body ?? `Body of article ${n}.\r\n`;
  return Buffer.concat([Buffer.from(h.join('\r\n') + '\r\n\r\n', 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')]);
}

export class FakeSource implements Source {
  readonly id: string;
  readonly calls: Calls = { listGroups: 0, groupInfo: 0, articleNumbers: 0, overview: 0, article: 0, head: 0 };
  private readonly groups = new Map<string, Group>();
  /** When set, every call throws SourceError(UNAVAILABLE). */
  failing = false;
  /** Added to each overview `bytes` (simulates an inexact upstream such as INN). */
  bytesSkew: (article: Buffer) => number = () => 0;
  /** Groups whose GROUP answer stays as it was when frozen (INN after a cancel). */
  private readonly frozen = new Map<string, GroupInfo>();
  /** When set, article streams fail (connection cut, UNAVAILABLE) after their first chunk. */
  cutArticles = false;
  /** When set, article streams stop after the first chunk until `releaseGate()`. */
  private gate: { promise: Promise<void>; release: () => void } | null = null;

  constructor(id = 'fake:1') {
    this.id = id;
  }

  addGroup(name: string): void {
    if (!this.groups.has(name)) this.groups.set(name, { articles: new Map(), next: 1 });
  }

  /** Posts an article; returns its number. */
  post(group: string, article: Buffer): number {
    this.addGroup(group);
    const g = this.groups.get(group)!;
    const n = g.next++;
    g.articles.set(n, article);
    return n;
  }

  /** Posts `count` generated articles; returns their numbers. */
  fill(group: string, count: number, spec: (n: number) => ArticleSpec = () => ({})): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const n = (this.groups.get(group)?.next ?? 1);
      out.push(this.post(group, makeArticle(n, spec(n))));
    }
    return out;
  }

  /** Removes articles like a cancel on INN: GROUP keeps answering the old low/high/count. */
  cancel(group: string, ...numbers: number[]): void {
    if (!this.frozen.has(group)) this.frozen.set(group, this.info(group));
    this.expire(group, ...numbers);
  }

  expire(group: string, ...numbers: number[]): void {
    for (const n of numbers) this.groups.get(group)?.articles.delete(n);
  }

  bytesOf(group: string, n: number): Buffer {
    return this.groups.get(group)!.articles.get(n)!;
  }

  holdArticles(): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.gate = { promise, release };
  }

  releaseGate(): void {
    this.gate?.release();
    this.gate = null;
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.enter('listGroups');
    return [...this.groups.keys()].map((name) => this.info(name));
  }

  async groupInfo(group: string): Promise<GroupInfo> {
    this.enter('groupInfo');
    return this.frozen.get(group) ?? this.info(group);
  }

  async articleNumbers(group: string, low: number, high: number): Promise<number[]> {
    this.enter('articleNumbers');
    return this.numbers(group).filter((n) => n >= low && n <= high);
  }

  async *overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
    this.enter('overview');
    const g = this.group(group);
    for (const n of this.numbers(group)) {
      if (n < low || n > high) continue;
      const a = g.articles.get(n);
      if (a === undefined) continue;
      const fields = parseHeader(a);
      const v = (name: string): string => findField(fields, name)?.value.toString('latin1') ?? '';
      yield {
        number: n,
        subject: v('subject'),
        from: v('from'),
        date: v('date'),
        messageId: v('message-id'),
        references: v('references'),
        bytes: a.length + this.bytesSkew(a),
        lines: 0,
      };
    }
  }

  async article(group: string, number: number): Promise<Readable> {
    this.enter('article');
    const a = this.art(group, number);
    const gate = this.gate?.promise;
    const cut = this.cutArticles;
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < a.length; i += CHUNK) {
        yield a.subarray(i, i + CHUNK);
        if (i === 0 && gate !== undefined) await gate;
        if (cut) throw new SourceError('UNAVAILABLE', `fake: ${group}: connection cut in article ${number}`);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async head(group: string, number: number): Promise<Buffer> {
    this.enter('head');
    const a = this.art(group, number);
    const e = headerEnd(a);
    return Buffer.from(e < 0 ? Buffer.concat([a, Buffer.from('\r\n')]) : a.subarray(0, e));
  }

  async close(): Promise<void> {}

  private enter(what: keyof Calls): void {
    this.calls[what]++;
    if (this.failing) throw new SourceError('UNAVAILABLE', `fake: ${what}: upstream down`);
  }

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (g === undefined) throw new SourceError('NO_SUCH_GROUP', `fake: no group ${name}`);
    return g;
  }

  private numbers(group: string): number[] {
    return [...this.group(group).articles.keys()].sort((a, b) => a - b);
  }

  private art(group: string, number: number): Buffer {
    const a = this.group(group).articles.get(number);
    if (a === undefined) throw new SourceError('NO_SUCH_ARTICLE', `fake: ${group}: no article ${number}`);
    return a;
  }

  private info(name: string): GroupInfo {
    const g = this.group(name);
    const nums = this.numbers(name);
    if (nums.length === 0) return { name, count: 0, low: g.next, high: g.next - 1 };
    return { name, count: nums.length, low: nums[0]!, high: g.next - 1 };
  }
}
