/**
 * NNTP reader client (RFC 3977) with pipelining, byte-exact multi-line data,
 * STARTTLS (RFC 4642), AUTHINFO USER/PASS (RFC 4643) and COMPRESS DEFLATE (RFC 8054).
 *
 *   C: GROUP misc.test             S: 211 3 1 3 misc.test
 *   C: ARTICLE 2                   S: 220 2 <b@x>  ...data... .
 *   C: OVER 1-3                    S: 224 Overview information follows ... .
 *
 * Contract:
 * - Commands that take a group select it implicitly and pipelined: `GROUP name`
 *   is queued before the command only if the last queued command was for
 *   another group. If that GROUP fails, every command queued for it fails with
 *   its error (NO_SUCH_GROUP, AUTH_REQUIRED, ...), its own response drained.
 * - Promise methods reject with NntpError only. `article`/`body` resolve at the
 *   status line with a stream the caller must read to the end or destroy;
 *   later responses on this connection wait behind it.
 * - `over`/`hdr` return lazily started async iterables; a 423 (empty range)
 *   yields nothing.
 * - The client owns its socket; `quit()` or `destroy()` closes it; 'close' is
 *   emitted once. The client never emits 'error'.
 */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { NntpConnection } from './connection.js';
import {
  Command,
  LineQueue,
  bytesConsumer,
  itemsConsumer,
  linesConsumer,
  statusConsumer,
  sinkConsumer,
  streamConsumer,
  type CommandSpec,
  type Consumer,
  type Selection,
  type StatusResult,
} from './command.js';
import { NntpError } from './errors.js';
import * as L from './limits.js';
import { parseHdrLine, parseOverLine, parseOverRecord } from './overview.js';
import { articleRef, checkNumber, commandLine, parseArticleStatus, rangeArg } from './args.js';
import { openSocket, setUpSession, type SetupIo } from './setup.js';
import type { ActiveEntry, ArticleHandle, GroupStatus, NntpClientOptions, OverLine, OverRecord } from './types.js';

export type { ActiveEntry, ArticleHandle, GroupStatus, NntpClientOptions, OverLine, OverRecord } from './types.js';

interface Resolved {
  maxLineBytes: number;
  maxHeadBytes: number;
  greetingTimeoutMs: number;
}

export class NntpClient extends EventEmitter {
  private caps = new Map<string, string[]>();
  private posting = false;
  private queuedSel: Selection | undefined;
  private delivered = 0;

  private constructor(
    private readonly conn: NntpConnection,
    private readonly r: Resolved,
  ) {
    super();
    conn.once('close', () => this.emit('close'));
  }

  /**
   * Connect and run the session set-up (./setup.ts): greeting, CAPABILITIES,
   * MODE READER if needed, STARTTLS, AUTHINFO, COMPRESS. Rejects with TIMEOUT (greeting),
   * UNAVAILABLE (400/502 greeting), TLS, AUTH_FAILED, CLOSED or PROTOCOL; the
   * socket is closed on failure.
   */
  static async connect(opts: NntpClientOptions): Promise<NntpClient> {
    const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'nntp', host: opts.host, port: opts.port });
    const r: Resolved = {
      maxLineBytes: opts.maxLineBytes ?? L.DEFAULT_MAX_LINE_BYTES,
      maxHeadBytes: opts.maxHeadBytes ?? L.DEFAULT_MAX_HEAD_BYTES,
      greetingTimeoutMs: opts.greetingTimeoutMs ?? L.DEFAULT_GREETING_TIMEOUT_MS,
    };
    let conn: NntpConnection | undefined;
    // The handshake handler is registered before the connection's own, so a handshake failure is reported as TLS.
    const socket = openSocket(opts, (err) => conn?.destroy(err));
    conn = new NntpConnection(socket, {
      window: Math.max(1, opts.pipelineWindow ?? L.DEFAULT_PIPELINE_WINDOW),
      commandTimeoutMs: opts.commandTimeoutMs ?? L.DEFAULT_COMMAND_TIMEOUT_MS,
      maxLineBytes: r.maxLineBytes,
      logger: log,
    });
    const client = new NntpClient(conn, r);
    const io: SetupIo = {
      conn,
      log,
      maxLineBytes: r.maxLineBytes,
      send: (spec, consumer) => client.send(spec, consumer),
      run: (spec) => client.run(spec),
    };
    try {
      const session = await setUpSession(io, opts, r.greetingTimeoutMs);
      client.caps = session.caps;
      client.posting = session.posting;
      if (conn.closed) throw new NntpError('CLOSED', 'connection closed during session set-up');
    } catch (err) {
      conn.destroy(err instanceof Error ? err : undefined);
      throw err;
    }
    return client;
  }

  /** CAPABILITIES of the current session: label (upper case) → arguments. */
  get capabilities(): ReadonlyMap<string, string[]> {
    return this.caps;
  }

  get postingAllowed(): boolean {
    return this.posting;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /** Commands queued or awaiting a response on this connection. */
  get pending(): number {
    return this.conn.pending;
  }

  /** Count of data chunks / lines handed to consumers so far (the pool uses it to decide on retries). */
  get deliveredCount(): number {
    return this.delivered;
  }

  override on(event: 'close', fn: () => void): this {
    return super.on(event, fn);
  }

  async group(name: string): Promise<GroupStatus> {
    const sel: Selection = { name };
    const line = this.cmd('GROUP', name);
    this.queuedSel = sel;
    const st = await this.run({ line, okCodes: [211] }, sel);
    const [count, low, high] = st.text.split(' ').map(Number);
    return { name, count: count ?? 0, low: low ?? 0, high: high ?? 0 };
  }

  async listGroup(name: string, range?: [number, number]): Promise<number[]> {
    const line = this.cmd('LISTGROUP', name, ...(range ? [rangeArg(range)] : []));
    const sel: Selection = { name };
    this.queuedSel = sel;
    const { consumer, result } = linesConsumer(this.r.maxLineBytes);
    this.send({ line, okCodes: [211], dataCodes: [211] }, this.selecting(sel, consumer));
    const { lines } = await result;
    const out: number[] = [];
    for (const l of lines) {
      const n = Number(l.toString('latin1'));
      if (Number.isSafeInteger(n) && n > 0) out.push(n);
    }
    return out;
  }

  async listActive(wildmat?: string): Promise<ActiveEntry[]> {
    const lines = await this.list('ACTIVE', wildmat);
    const out: ActiveEntry[] = [];
    for (const l of lines) {
      const [name, high, low, status] = l.toString('utf8').split(/\s+/);
      if (name && high !== undefined && low !== undefined)
        out.push({ name, high: Number(high), low: Number(low), status: status ?? '' });
    }
    return out;
  }

  async listNewsgroups(wildmat?: string): Promise<Map<string, string>> {
    const lines = await this.list('NEWSGROUPS', wildmat);
    const out = new Map<string, string>();
    for (const l of lines) {
      const m = /^(\S+)\s*(.*)$/s.exec(l.toString('utf8'));
      if (m) out.set(m[1]!, m[2]!);
    }
    return out;
  }

  async listOverviewFmt(): Promise<string[]> {
    return (await this.list('OVERVIEW.FMT')).map((l) => l.toString('utf8'));
  }

  over(group: string, range: [number, number]): AsyncIterable<OverLine> {
    const verb = this.caps.has('OVER') ? 'OVER' : 'XOVER';
    return this.lineQueue(group, range, verb, [224], parseOverLine);
  }

  /**
   * OVER (or XOVER) of `range`, collected: the records of `parseOverRecord`
   * (overview.ts) in the server's order, without raw field bytes; with
   * `inReplyTo` (the index of `In-Reply-To:full` in LIST OVERVIEW.FMT, -1 for
   * none) each carries its In-Reply-To. For bulk reads (a whole group); 423 (no
   * articles in the range) gives [].
   */
  async overRecords(group: string, range: [number, number], inReplyTo = -1): Promise<OverRecord[]> {
    if (range[0] > range[1]) return [];
    const verb = this.caps.has('OVER') ? 'OVER' : 'XOVER';
    const line = this.cmd(verb, rangeArg(range));
    const parse = (buf: Buffer, start: number, end: number): OverRecord | undefined => parseOverRecord(buf, start, end, inReplyTo);
    const { consumer, result } = itemsConsumer(this.r.maxLineBytes, parse, () => this.delivered++);
    this.send({ line, okCodes: [224, 423], dataCodes: [224], sel: this.selectFor(group) }, consumer);
    return (await result).lines;
  }

  hdr(group: string, field: string, range: [number, number]): AsyncIterable<{ number: number; value: Buffer }> {
    // RFC 3977 §8.5 HDR answers 225; the older XHDR (RFC 2980) answers 221.
    return this.caps.has('HDR')
      ? this.lineQueue(group, range, 'HDR', [225], parseHdrLine, field)
      : this.lineQueue(group, range, 'XHDR', [221], parseHdrLine, field);
  }

  article(group: string, number: number): Promise<ArticleHandle> {
    return this.streamed('ARTICLE', 220, group, number);
  }

  /** ARTICLE <message-id>: sends no GROUP; `number` is what the server says (INN: 0). */
  articleById(messageId: string): Promise<ArticleHandle> {
    return this.streamed('ARTICLE', 220, undefined, messageId);
  }

  /** ARTICLE into a synchronous `sink`, no stream (see `sinkConsumer`); resolves after the terminating line. */
  articleInto(
    group: string | undefined,
    ref: number | string,
    sink: (chunk: Buffer) => void,
    accept: (messageId: string) => boolean = () => true,
  ): Promise<{ number: number; messageId: string; accepted: boolean }> {
    const line = this.cmd('ARTICLE', articleRef(ref));
    const sel = group !== undefined ? this.selectFor(group) : undefined;
    const { consumer, result } = sinkConsumer(sink, accept, () => this.delivered++);
    this.send({ line, okCodes: [220], dataCodes: [220], ...(sel ? { sel } : {}) }, consumer);
    return result;
  }

  body(group: string, number: number): Promise<ArticleHandle> {
    return this.streamed('BODY', 222, group, number);
  }

  /**
   * HEAD (RFC 3977 §6.2.2): the header block exactly as sent, un-stuffed, each line
   * ending in CRLF, WITHOUT the empty line that separates it from the body.
   * Rejects with PROTOCOL (connection kept) if longer than maxHeadBytes.
   */
  head(group: string, number: number): Promise<{ number: number; messageId: string; head: Buffer }> {
    return this.headOf(group, number);
  }

  headById(messageId: string): Promise<{ number: number; messageId: string; head: Buffer }> {
    return this.headOf(undefined, messageId);
  }

  async stat(group: string, number: number): Promise<{ number: number; messageId: string }> {
    const line = this.cmd('STAT', String(checkNumber(number)));
    const st = await this.run({ line, okCodes: [223], sel: this.selectFor(group) });
    return parseArticleStatus(st.text);
  }

  /** DATE (RFC 3977 §7.1): the server's UTC time. */
  async date(): Promise<Date> {
    const st = await this.run({ line: 'DATE', okCodes: [111] });
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(st.text);
    if (!m) throw new NntpError('PROTOCOL', `bad DATE answer: ${st.text.slice(0, 40)}`);
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  }

  /** QUIT (RFC 3977 §5.4), then close. Never rejects. */
  async quit(): Promise<void> {
    if (this.conn.closed) return;
    const done = this.run({ line: 'QUIT', okCodes: [205], timeoutMs: L.QUIT_TIMEOUT_MS }).catch(() => undefined);
    await done;
    this.conn.destroy(new NntpError('CLOSED', 'quit'));
  }

  /** Drop the connection; everything in flight rejects with CLOSED. */
  destroy(err?: Error): void {
    this.conn.destroy(err ? new NntpError('CLOSED', `destroyed: ${err.message}`, { cause: err }) : undefined);
  }

  // ---- command plumbing ----

  private send(spec: CommandSpec, consumer: Consumer): void {
    this.conn.send(new Command(spec, consumer));
  }

  private run(spec: CommandSpec, selecting?: Selection): Promise<StatusResult> {
    const { consumer, result } = statusConsumer();
    this.send(spec, selecting ? this.selecting(selecting, consumer) : consumer);
    return result;
  }

  /** Wrap the consumer of a command that selects `sel` so its failure marks the selection. */
  private selecting(sel: Selection, c: Consumer): Consumer {
    return {
      ok: c.ok,
      ...(c.data ? { data: c.data } : {}),
      end: c.end,
      fail: (err) => {
        sel.error = err;
        if (this.queuedSel === sel) this.queuedSel = undefined;
        c.fail(err);
      },
    };
  }

  /** The selection the next command for `group` depends on, queuing GROUP if needed. */
  private selectFor(group: string): Selection {
    if (this.queuedSel && this.queuedSel.name === group && !this.queuedSel.error) return this.queuedSel;
    const line = this.cmd('GROUP', group);
    const sel: Selection = { name: group };
    this.queuedSel = sel;
    this.send({ line, okCodes: [211] }, this.selecting(sel, { ok: () => {}, end: () => {}, fail: () => {} }));
    return sel;
  }

  private async list(keyword: string, wildmat?: string): Promise<Buffer[]> {
    const line = this.cmd('LIST', keyword, ...(wildmat !== undefined ? [wildmat] : []));
    const { consumer, result } = linesConsumer(this.r.maxLineBytes);
    this.send({ line, okCodes: [215], dataCodes: [215] }, consumer);
    return (await result).lines;
  }

  private lineQueue<T>(
    group: string,
    range: [number, number],
    verb: string,
    dataCodes: number[],
    parse: (l: Buffer) => T | undefined,
    field?: string,
  ): AsyncIterable<T> {
    const client = this;
    return {
      [Symbol.asyncIterator]() {
        return new LineQueue<T>(
          client.conn,
          client.r.maxLineBytes,
          parse,
          (consumer) => {
            if (range[0] > range[1]) return consumer.end();
            let line: string;
            try {
              line = client.cmd(verb, ...(field !== undefined ? [field] : []), rangeArg(range));
            } catch (err) {
              return consumer.fail(err as NntpError);
            }
            // 423: no articles in the range (RFC 3977 §8.3.2) — an empty result, not an error.
            client.send({ line, okCodes: [...dataCodes, 423], dataCodes, sel: client.selectFor(group) }, consumer);
          },
          () => client.delivered++,
        );
      },
    };
  }

  private async streamed(verb: string, code: number, group: string | undefined, ref: number | string): Promise<ArticleHandle> {
    const line = this.cmd(verb, articleRef(ref));
    const sel = group !== undefined ? this.selectFor(group) : undefined;
    const { consumer, result } = streamConsumer(this.conn, () => this.delivered++);
    this.send({ line, okCodes: [code], dataCodes: [code], ...(sel ? { sel } : {}) }, consumer);
    const st = await result;
    return { ...parseArticleStatus(st.text), stream: st.stream };
  }

  private async headOf(group: string | undefined, ref: number | string): Promise<{ number: number; messageId: string; head: Buffer }> {
    const line = this.cmd('HEAD', articleRef(ref));
    const sel = group !== undefined ? this.selectFor(group) : undefined;
    const { consumer, result } = bytesConsumer(this.r.maxHeadBytes, 'HEAD');
    this.send({ line, okCodes: [221], dataCodes: [221], ...(sel ? { sel } : {}) }, consumer);
    const st = await result;
    return { ...parseArticleStatus(st.text), head: st.data };
  }

  private cmd(verb: string, ...args: string[]): string {
    return commandLine(verb, ...args);
  }
}
