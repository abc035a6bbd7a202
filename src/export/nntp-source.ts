/**
 * `Source` over one NNTP upstream, through a pool of pipelining connections
 * (src/nntp/pool.ts).
 *
 *   listGroups   → LIST ACTIVE (+ LIST NEWSGROUPS for descriptions, optional)
 *   groupInfo    → GROUP
 *   articleNumbers → LISTGROUP name lo-hi
 *   overview     → GROUP + OVER lo-hi, in batches of OVERVIEW_BATCH numbers, OVERVIEW_AHEAD in flight (GROUP on the same
 *                  connection each time: INN's nnrpd answers OVER/HDR only up to the high
 *                  mark of that connection's last GROUP, so a connection that selected the
 *                  group before new articles arrived would answer 423 for them)
 *   headerValues → GROUP + HDR field lo-hi (XHDR on older servers), in batches of HEADER_BATCH numbers; background
 *                  uses of the pool (only the index asks for them: client reads do not queue behind them)
 *   article/head → ARTICLE n / HEAD n (after an implicit GROUP)
 *
 * Errors: every `NntpError` becomes a `SourceError` with `{ cause }`:
 * NO_SUCH_GROUP and NO_SUCH_ARTICLE keep their meaning; AUTH_REQUIRED and
 * AUTH_FAILED ⇒ AUTH_REQUIRED; UNAVAILABLE, CLOSED, TIMEOUT, TLS ⇒ UNAVAILABLE
 * (the multi-upstream source fails over on it); PROTOCOL, UNEXPECTED_STATUS ⇒
 * PROTOCOL. An error in the middle of an article stream destroys the returned
 * stream with the mapped error.
 *
 * Ownership: the source owns its pool; `close()` QUITs its connections. The
 * stream returned by `article()` belongs to the caller, who reads it to the end
 * or destroys it (the connection then drains the rest of that response).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '../util/log.js';
import { NntpError, NntpPool, parseNntpUrl, redactNntpUrl, type NntpClient, type NntpErrorCode, type NntpPoolOptions, type UseMode } from '../nntp/index.js';
import { isSyntheticMessageId } from './message-id.js';
import { SourceError, type ArticleSink, type GroupInfo, type OverviewRecord, type Source, type SourceErrorCode } from './source.js';

/** Article numbers per OVER command: bounds memory per batch (~200 bytes a line) while keeping round trips few. */
export const OVERVIEW_BATCH = 2000;

/** OVER batches asked for ahead of the one the consumer reads (each on a pool connection): bounds memory to this many batches. */
export const OVERVIEW_AHEAD = 3;

/** Article numbers per HDR command: one short line per article that has the field. */
export const HEADER_BATCH = 20_000;

/** Group descriptions change rarely and LIST NEWSGROUPS of a big server is as long as LIST ACTIVE: fetch them at most hourly. */
export const DESCRIPTIONS_TTL_MS = 3_600_000;

const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');

/** The client methods this source uses (a test may pass a fake pool of such clients). */
export type SourceClient = Pick<
  NntpClient,
  'group' | 'listGroup' | 'listActive' | 'listNewsgroups' | 'listOverviewFmt' | 'overRecords' | 'hdr' | 'article' | 'articleInto' | 'head' | 'articleById' | 'headById'
>;

/** Message-IDs we made up for articles without one (./message-id.ts) cannot be confirmed by the upstream. */
const checkable = (messageId: string | undefined): messageId is string =>
  messageId !== undefined && !isSyntheticMessageId(messageId);

export interface ClientPool {
  /** `mode`: `true` one of many small requests issued together, `'background'` work no client waits for (see NntpPool.use). */
  use<T>(fn: (c: SourceClient) => Promise<T>, mode?: UseMode): Promise<T>;
  /** Opens up to `n` connections ahead of use; never rejects (NntpPool.warm). Optional for fake pools. */
  warm?(n: number): Promise<void>;
  close(): Promise<void>;
}

/** One upstream as configured (the application passes its config entry; this layer does not read config). */
export interface UpstreamOptions {
  /** `nntp://[user:pass@]host[:port]` or `nntps://…` (see src/nntp/url.ts). */
  url: string;
  /** NNTP connections kept to this upstream. */
  poolSize: number;
  /** Commands in flight per connection. */
  pipelineWindow: number;
  /** Upgrade a plain `nntp://` connection with STARTTLS (RFC 4642) before anything else. */
  starttls: boolean;
}

export interface NntpSourceOptions {
  upstream: UpstreamOptions;
  logger: Logger;
  /** Instead of a real `NntpPool` (tests). */
  pool?: ClientPool;
  /** Told how each upstream request ended (NntpPoolOptions.onRequest; metrics). */
  onRequest?: NntpPoolOptions['onRequest'];
}

const CODE_MAP: Record<NntpErrorCode, SourceErrorCode> = {
  NO_SUCH_GROUP: 'NO_SUCH_GROUP',
  NO_SUCH_ARTICLE: 'NO_SUCH_ARTICLE',
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_FAILED: 'AUTH_REQUIRED',
  UNAVAILABLE: 'UNAVAILABLE',
  CLOSED: 'UNAVAILABLE',
  TIMEOUT: 'UNAVAILABLE',
  TLS: 'UNAVAILABLE',
  PROTOCOL: 'PROTOCOL',
  UNEXPECTED_STATUS: 'PROTOCOL',
};

/** Map any error from the NNTP layer to a SourceError (unknown errors ⇒ UNAVAILABLE, cause kept). */
export function toSourceError(err: unknown, where: string): SourceError {
  if (err instanceof SourceError) return err;
  if (err instanceof NntpError) return new SourceError(CODE_MAP[err.code], `${where}: ${err.message}`, { cause: err });
  return new SourceError('UNAVAILABLE', `${where}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class NntpSource implements Source {
  /** `nntp://host:port` or `nntps://…`, user name kept, password never. */
  readonly id: string;
  private readonly pool: ClientPool;
  private readonly log: Logger;
  private descriptions: { at: number; map: Map<string, string> } | undefined;
  /** Index of In-Reply-To among OVER's fields, -1 when the overview lacks it (`inReplyToField`). */
  private irtField: Promise<number> | undefined;

  /** Throws SourceError('PROTOCOL') when the URL is not an nntp(s) URL (config validation prevents that). */
  constructor(opts: NntpSourceOptions) {
    const addr = parseNntpUrl(opts.upstream.url);
    if (typeof addr === 'string') throw new SourceError('PROTOCOL', `upstream url: ${addr}`);
    this.id = redactNntpUrl(opts.upstream.url);
    this.log = opts.logger.child({ component: 'nntp-source', upstream: this.id });
    this.pool =
      opts.pool ??
      new NntpPool({
        host: addr.host,
        port: addr.port,
        tls: addr.tls,
        starttls: addr.tls ? 'never' : opts.upstream.starttls ? 'require' : 'never',
        ...(addr.user !== undefined ? { user: addr.user } : {}),
        ...(addr.password !== undefined ? { password: addr.password } : {}),
        size: opts.upstream.poolSize,
        pipelineWindow: opts.upstream.pipelineWindow,
        name: this.id,
        logger: opts.logger,
        ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
      });
  }

  async listGroups(): Promise<GroupInfo[]> {
    const active = await this.call('LIST ACTIVE', (c) => c.listActive());
    const descriptions = await this.groupDescriptions();
    return active.map((a) => {
      const g: GroupInfo = { name: a.name, count: a.high >= a.low ? a.high - a.low + 1 : 0, low: a.low, high: a.high, status: a.status };
      const d = descriptions.get(a.name);
      if (d !== undefined && d !== '') g.description = d;
      return g;
    });
  }

  /** LIST NEWSGROUPS, cached for DESCRIPTIONS_TTL_MS; a failure gives no descriptions (they are optional). */
  private async groupDescriptions(): Promise<Map<string, string>> {
    const now = Date.now();
    if (this.descriptions !== undefined && now - this.descriptions.at < DESCRIPTIONS_TTL_MS) return this.descriptions.map;
    try {
      const map = await this.pool.use((c) => c.listNewsgroups());
      this.descriptions = { at: now, map };
      return map;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'LIST NEWSGROUPS failed; groups listed without descriptions');
      return this.descriptions?.map ?? new Map();
    }
  }

  /**
   * At start (Source.warm): the connections a first group ingest reads OVER
   * on (OVERVIEW_AHEAD of the pool's) are opened, and LIST OVERVIEW.FMT is
   * read, so a first SELECT starts with its OVER. Never rejects.
   */
  async warm(): Promise<void> {
    await this.pool.warm?.(OVERVIEW_AHEAD);
    await this.inReplyToField();
  }

  async groupInfo(group: string): Promise<GroupInfo> {
    const st = await this.call(`GROUP ${group}`, (c) => c.group(group));
    return { name: group, count: st.count, low: st.low, high: st.high };
  }

  async articleNumbers(group: string, low: number, high: number): Promise<number[]> {
    if (high < low) return [];
    return this.call(`LISTGROUP ${group}`, (c) => c.listGroup(group, [low, high]));
  }

  /**
   * Where OVER carries In-Reply-To (`In-Reply-To:full` in LIST OVERVIEW.FMT:
   * INN's `extraoverviewadvertised`), as an index among OVER's fields after the number, or -1.
   * Asked once per source; a failed LIST is asked again next time.
   */
  private inReplyToField(): Promise<number> {
    this.irtField ??= this.call('LIST OVERVIEW.FMT', (c) => c.listOverviewFmt()).then(
      (fmt) => fmt.findIndex((l) => l.trim().toLowerCase() === 'in-reply-to:full'),
      (err: unknown) => {
        this.irtField = undefined;
        this.log.debug({ err: (err as Error).message }, 'LIST OVERVIEW.FMT failed; In-Reply-To read apart');
        return -1;
      },
    );
    return this.irtField;
  }

  async *overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
    for await (const batch of this.overviewBatches(group, low, high)) yield* batch;
  }

  async *overviewBatches(group: string, low: number, high: number): AsyncIterable<OverviewRecord[]> {
    const irt = await this.inReplyToField();
    // The next batches are asked for (on other connections of the pool) while
    // the consumer handles this one: the upstream's OVER and the ingest's own
    // work (UID map, index feed) overlap instead of taking turns.
    const ahead: Promise<OverviewRecord[]>[] = [];
    let lo = Math.max(1, low);
    const issue = (): void => {
      while (lo <= high && ahead.length < OVERVIEW_AHEAD) {
        const hi = Math.min(high, lo + OVERVIEW_BATCH - 1);
        const p = this.overviewBatch(group, lo, hi, irt);
        p.catch(() => undefined); // observed when its turn comes, or dropped with an abandoned iteration
        ahead.push(p);
        lo = hi + 1;
      }
    };
    issue();
    while (ahead.length > 0) {
      const batch = await ahead.shift()!;
      issue();
      if (batch.length > 0) yield batch;
    }
  }

  /**
   * One OVER batch, collected inside `use` so no connection is held while the
   * consumer awaits. The client's records are OverviewRecords as they are
   * (In-Reply-To set exactly when the overview carries it).
   */
  private overviewBatch(group: string, lo: number, hi: number, irt: number): Promise<OverviewRecord[]> {
    return this.call(`OVER ${group} ${lo}-${hi}`, async (c) => {
      // a fresh GROUP on this connection (INN answers 423 for numbers above its last GROUP's high),
      // pipelined with the OVER: one write and no round trip between them (a GROUP that fails is the error)
      const selected = c.group(group);
      const records = c.overRecords(group, [lo, hi], irt);
      records.catch(() => undefined); // observed below, once the GROUP succeeded
      await selected;
      return records;
    });
  }

  async *headerValues(group: string, field: string, low: number, high: number): AsyncIterable<{ number: number; value: Buffer }> {
    for (let lo = Math.max(1, low); lo <= high; lo += HEADER_BATCH) {
      const hi = Math.min(high, lo + HEADER_BATCH - 1);
      const batch = await this.call(`HDR ${field} ${group} ${lo}-${hi}`, async (c) => {
        const out: { number: number; value: Buffer }[] = [];
        await c.group(group); // as for OVER
        for await (const v of c.hdr(group, field, [lo, hi])) if (v.value.length > 0) out.push({ number: v.number, value: Buffer.from(v.value) });
        return out;
      }, 'background'); // the index's reads: kept off the connection client reads go to (NntpPool `pick`)
      yield* batch;
    }
  }

  async article(group: string, number: number, messageId?: string): Promise<Readable> {
    const where = `ARTICLE ${group}:${number}`;
    const h = await this.call(where, async (c) => {
      const got = await c.article(group, number);
      if (!checkable(messageId) || got.messageId === messageId || got.messageId === '') return got;
      // the number names another article now: drop that answer, ask by Message-ID
      got.stream.destroy();
      this.log.warn({ group, number, expected: messageId, got: got.messageId }, 'article number names another article; fetching by Message-ID');
      const byId = await c.articleById(messageId);
      if (byId.messageId !== '' && byId.messageId !== messageId) {
        byId.stream.destroy();
        throw new SourceError('NO_SUCH_ARTICLE', `${where}: the upstream answers ${byId.messageId} for ${messageId}`);
      }
      return byId;
    });
    const out = new PassThrough();
    h.stream.on('error', (err) => out.destroy(toSourceError(err, where)));
    out.on('close', () => {
      if (!h.stream.destroyed && !h.stream.readableEnded) h.stream.destroy();
    });
    h.stream.pipe(out);
    return out;
  }

  articleInto(group: string, number: number, messageId: string | undefined, sink: ArticleSink, bulk = false): Promise<void> {
    // promise chains, not async functions: a cold listing makes one call per article
    const data = (chunk: Buffer): void => sink.data(chunk);
    const fits = (got: string): boolean => {
      const ok = !checkable(messageId) || got === messageId || got === '';
      if (ok) sink.begin();
      return ok;
    };
    const where = `ARTICLE ${group}:${number}`;
    return this.call(where, (c) =>
      c.articleInto(group, number, data, fits).then((got) => {
        if (got.accepted) return undefined;
        // the number names another article now: ask by Message-ID (see `article`)
        this.log.warn({ group, number, expected: messageId, got: got.messageId }, 'article number names another article; fetching by Message-ID');
        return c.articleInto(undefined, messageId!, data, fits).then((byId) => {
          if (!byId.accepted) throw new SourceError('NO_SUCH_ARTICLE', `${where}: the upstream answers ${byId.messageId} for ${messageId}`);
        });
      }),
      bulk,
    );
  }

  async head(group: string, number: number, messageId?: string): Promise<Buffer> {
    const r = await this.call(`HEAD ${group}:${number}`, async (c) => {
      const got = await c.head(group, number);
      if (!checkable(messageId) || got.messageId === messageId || got.messageId === '') return got;
      this.log.warn({ group, number, expected: messageId, got: got.messageId }, 'article number names another article; fetching by Message-ID');
      const byId = await c.headById(messageId);
      if (byId.messageId !== '' && byId.messageId !== messageId) {
        throw new SourceError('NO_SUCH_ARTICLE', `HEAD ${group}:${number}: the upstream answers ${byId.messageId} for ${messageId}`);
      }
      return byId;
    });
    // HEAD (RFC 3977 §6.2.2) sends the header lines only; the Source contract includes the empty line.
    const h = r.head;
    if (h.length >= 4 && h.subarray(-4).toString('latin1') === '\r\n\r\n') return h;
    return Buffer.concat([h, h.length === 0 || h.subarray(-2).toString('latin1') === '\r\n' ? CRLF : CRLF2]);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private call<T>(where: string, fn: (c: SourceClient) => Promise<T>, mode: UseMode = false): Promise<T> {
    return this.pool.use(fn, mode).catch((err: unknown) => {
      throw toSourceError(err, `${this.id} ${where}`);
    });
  }
}
