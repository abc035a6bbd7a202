/**
 * A private INN 2.7 server for integration tests: own temp dir, own INNCONF, own
 * loopback port. Several instances coexist (the failover tests run two).
 *
 * What INN does to an article injected with rnews (measured on INN 2.7.1, Debian
 * 2.7.1-1+deb12u1, tradspool, wireformat; `test/harness/inn.test.ts` re-checks these
 * facts against every run via `sm -R` and ARTICLE):
 *  1. rnews reads the batch in NATIVE format (LF line ends) and converts to wire format
 *     itself (LF→CRLF, dot-stuffing). CRLF input becomes CR CR LF and is rejected
 *     ("437 No body"). So batches are written with LF; an article may therefore not
 *     contain a bare CR or LF, nor NUL (rnews cannot carry NUL).
 *  2. `Path:` gets `<pathhost>!` prepended.
 *  3. `Xref: <pathhost> group:n [group:n ...]` is appended as the last header field;
 *     an incoming `Xref:` field keeps its position and gets its value replaced.
 *  4. A `Bytes:` header field is removed. `Lines:` and obsolete fields (Received,
 *     Posted, Relay-Version, NNTP-Posting-Host, X-Trace, ...) are kept unchanged.
 *  5. Nothing else changes: header order, folding (CRLF + WSP), trailing blanks,
 *     8-bit bytes in headers and body, empty bodies, trailing empty lines are kept.
 *     No Injection-Date/Injection-Info (those are only added to local posts by nnrpd).
 *  6. Stored in wire format (CRLF, dot-stuffed, ".\r\n" terminator); ARTICLE serves
 *     exactly those bytes, so article bytes = `expectedStoredBytes(...)` of the input.
 *  7. Rejected (reported as "rejected 437 ..." on rnews stderr, rnews still exits 0):
 *     a header field with an empty body ("Name:"), duplicate single-instance fields
 *     (two Subject lines), a Date more than 24 h in the future (+20 h accepted, +25 h
 *     rejected), and with the default `artcutoff` old Dates (we set `artcutoff: 0`).
 *     UTF-8 group names (`de.straße.käse`) work in active, Newsgroups and GROUP.
 *  8. Articles are numbered per group in injection order starting at 1; a crosspost is
 *     filed in every listed group that exists; STAT <msgid> works as soon as rnews returns.
 *  9. Logging goes to syslog, which these machines lack (/dev/log is missing): innd
 *     start-up errors are invisible except for its exit status.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { crlfToLf, headerValue } from './article-bytes.js';
import * as cfg from './inn-config.js';
import { chownTree, freePort, InnToolError, newsIds, readStoredArticles, runTool, type RunOutput } from './inn-tools.js';
import { INN_BIN_DIR } from './install-inn.js';
import { NntpProbe } from './nntp-probe.js';

export { freePort } from './inn-tools.js';

/** innd needs 0.3–0.5 s; a loaded 2-core box under parallel suites needs margin. */
const START_TIMEOUT_MS = 20_000;
/** Attempts with a fresh port when innd exits at start (e.g. port taken in the race window). */
const START_ATTEMPTS = 3;
/** ctlinnd's own wait for innd to answer (`-t`). */
const CTLINND_TIMEOUT_S = 30;
/** After rnews returns, how long articles may take to become visible to readers. */
const FILED_TIMEOUT_MS = 60_000;
/** STAT commands in flight while checking injected Message-IDs. */
const STAT_WINDOW = 1000;
/**
 * Up to this many articles every Message-ID is STATed before (duplicates) and after
 * (visibility) injection. Above it (the 100k benchmark batch) the exact GROUP counts
 * carry the proof and only a sample is STATed: a silently dropped duplicate shows up
 * as a count short of the target (NOT_FILED).
 */
const STAT_ALL_MAX = 5000;

/** All ids for small batches; for big ones the last STAT_WINDOW and every 50th. */
function statSample(ids: string[]): string[] {
  if (ids.length <= STAT_ALL_MAX) return ids;
  return ids.filter((_, i) => i % 50 === 0 || i >= ids.length - STAT_WINDOW);
}

export type InnHarnessErrorCode = 'START_FAILED' | 'COMMAND_FAILED' | 'REJECTED' | 'NOT_FILED' | 'NOT_FOUND' | 'STOPPED';

export class InnHarnessError extends Error {
  readonly code: InnHarnessErrorCode;
  constructor(code: InnHarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InnHarnessError';
    this.code = code;
  }
}

/** An article about to be injected: what must be visible once it is filed. */
export interface ExpectedArticle {
  messageId: string;
  /** Groups from its Newsgroups header. Groups this server does not carry are ignored. */
  groups: string[];
}

export interface StartInnOptions {
  groups: string[];
  /** Articles (CRLF) injected with rnews before startInn resolves. */
  articles?: Buffer[];
  /** LIST NEWSGROUPS descriptions. */
  descriptions?: Record<string, string>;
  /** Path identity (default `news.test`). */
  pathhost?: string;
  logger?: Logger;
  /**
   * Articles the history database is sized for (`makedbz -s`); by default
   * makedbz's own small size. The 1M-article bench sets it, so history
   * lookups during injection do not slow down as the table fills.
   */
  historySize?: number;
  /** Header fields INN keeps in its overview as well (inn.conf `extraoverviewadvertised`, e.g. `In-Reply-To`). */
  extraOverview?: readonly string[];
}

export interface InnServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Instance root (removed by stop()). */
  readonly dir: string;
  readonly pathhost: string;
  /** The private inn.conf; set INNCONF to it to run INN tools against this instance. */
  readonly innconf: string;
  /**
   * Inject CRLF articles with one rnews batch and wait until every one is filed
   * (GROUP counts grown, STAT <msgid> answers 223). Throws REJECTED with rnews'
   * messages if INN refused any or a Message-ID is already there (INN would drop it
   * silently), NOT_FILED on timeout.
   */
  inject(articles: Buffer[]): Promise<void>;
  /** Inject a ready-made rnews batch file (LF format, e.g. from `writeRnewsBatch`). */
  injectBatchFile(path: string, expected: ExpectedArticle[]): Promise<void>;
  /** One article, e.g. while an IMAP client IDLEs: `inject([article])`. */
  post(article: Buffer): Promise<void>;
  /** Create a group at run time (`ctlinnd newgroup`). */
  addGroup(name: string): Promise<void>;
  /** Remove an article from the spool and overview (`ctlinnd cancel`). */
  cancel(messageId: string): Promise<void>;
  /** The article exactly as INN stores it (via grephistory + `sm -R`, wire format undone). Throws NOT_FOUND. */
  storedArticle(messageId: string): Promise<Buffer>;
  /** The same for many articles at once (two tool runs per 500), in the order given. */
  storedArticles(messageIds: string[]): Promise<Buffer[]>;
  /** `ctlinnd shutdown`, wait for innd to exit, remove `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Instances alive in this process: shut down synchronously if the process exits without stop(). */
const live = new Set<PrivateInn>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const inn of live) inn.emergencyStop();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class PrivateInn implements InnServer {
  readonly host = '127.0.0.1' as const;
  readonly innconf: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private stopped = false;
  private batchSeq = 0;
  private readonly groups: Set<string>;
  /** inn.conf `extraoverviewadvertised` (StartInnOptions.extraOverview). */
  private extraOverview: readonly string[] | undefined;

  constructor(
    readonly dir: string,
    public port: number,
    readonly pathhost: string,
    groups: string[],
    private readonly log: Logger,
    private readonly ids: { uid: number; gid: number },
  ) {
    this.innconf = join(dir, 'etc', 'inn.conf');
    this.groups = new Set(groups);
    this.extraOverview = undefined;
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, INNCONF: this.innconf };
  }

  private async tool(name: string, args: string[]): Promise<RunOutput> {
    return runTool(join(INN_BIN_DIR, name), args, this.env);
  }

  /** Write the instance's files, create the empty history, own everything by news. */
  async prepare(descriptions: Record<string, string>, historySize?: number, extraOverview?: readonly string[]): Promise<void> {
    this.extraOverview = extraOverview;
    for (const sub of ['etc', 'db', 'spool/articles', 'spool/overview', 'run', 'log', 'tmp', 'incoming/bad', 'outgoing', 'archive', 'http', 'filter', 'batches']) {
      await mkdir(join(this.dir, sub), { recursive: true });
    }
    const etc = (f: string): string => join(this.dir, 'etc', f);
    await writeFile(etc('storage.conf'), cfg.STORAGE_CONF);
    await writeFile(etc('incoming.conf'), cfg.INCOMING_CONF);
    await writeFile(etc('readers.conf'), cfg.READERS_CONF);
    await writeFile(etc('newsfeeds'), cfg.NEWSFEEDS);
    await writeFile(etc('expire.ctl'), cfg.EXPIRE_CTL);
    await writeFile(join(this.dir, 'db', 'active'), cfg.activeFile([...this.groups]));
    await writeFile(join(this.dir, 'db', 'active.times'), '');
    await writeFile(join(this.dir, 'db', 'newsgroups'), cfg.newsgroupsFile(descriptions));
    await writeFile(join(this.dir, 'db', 'history'), '');
    await this.writeInnConf();
    await chmod(this.dir, 0o755);
    await chownTree(this.dir, this.ids.uid, this.ids.gid);
    const sized = historySize !== undefined ? ['-s', String(historySize)] : [];
    const r = await runTool(join(INN_BIN_DIR, 'makedbz'), ['-i', '-o', ...sized], this.env, this.ids);
    if (r.code !== 0) throw new InnHarnessError('START_FAILED', `makedbz -i -o ${sized.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
  }

  private async writeInnConf(): Promise<void> {
    await writeFile(this.innconf, cfg.innConf({ dir: this.dir, port: this.port, pathhost: this.pathhost, ...(this.extraOverview ? { extraOverview: this.extraOverview } : {}) }));
    await chown(this.innconf, this.ids.uid, this.ids.gid);
  }

  /** Start innd in the foreground (we keep its pid) and wait for a reader greeting. */
  async start(): Promise<void> {
    let lastError = '';
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      if (attempt > 1) {
        this.port = await freePort();
        await this.writeInnConf();
        await rm(join(this.dir, 'run'), { recursive: true, force: true });
        await mkdir(join(this.dir, 'run'));
        await chown(join(this.dir, 'run'), this.ids.uid, this.ids.gid);
      }
      const child = spawn(join(INN_BIN_DIR, 'innd'), ['-f'], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString('latin1');
      });
      let exitCode: number | null | undefined;
      this.exited = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          exitCode = code ?? (signal ? -1 : null);
          resolve(code);
        });
        child.on('error', (err) => {
          stderr += String(err);
          exitCode = -1;
          resolve(-1);
        });
      });
      this.child = child;
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (exitCode === undefined && Date.now() < deadline) {
        try {
          const probe = await NntpProbe.connect(this.host, this.port, 2_000);
          await probe.close();
          this.log.debug({ port: this.port, dir: this.dir }, 'inn: ready');
          return;
        } catch {
          await sleep(50);
        }
      }
      const errlog = await readFile(join(this.dir, 'log', 'errlog'), 'latin1').catch(() => '');
      lastError = `innd on port ${this.port} ${exitCode === undefined ? 'gave no greeting in time' : `exited with ${exitCode}`}; stderr: ${stderr.trim() || '(none)'}; errlog: ${errlog.trim() || '(empty)'}`;
      this.log.warn({ attempt }, `inn: start failed: ${lastError}`);
      if (exitCode === undefined) await this.shutdown('start timeout');
    }
    throw new InnHarnessError('START_FAILED', `${lastError} (innd logs to syslog, absent here; check ${this.dir}/etc)`);
  }

  private async shutdown(reason: string): Promise<void> {
    const r = await this.tool('ctlinnd', ['-t', String(CTLINND_TIMEOUT_S), 'shutdown', reason]);
    if (r.code !== 0) this.log.warn({ stderr: r.stderr }, 'inn: ctlinnd shutdown failed');
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), CTLINND_TIMEOUT_S * 1000);
      }),
    ]);
    clearTimeout(timer);
    if (!done && this.child && this.child.exitCode === null) {
      // Last resort after a failed orderly shutdown; SIGTERM would leave innd lingering.
      this.log.error({ pid: this.child.pid }, 'inn: innd ignored ctlinnd shutdown, sending SIGKILL');
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    await this.shutdown('newsfront test done');
    if (!process.env['NEWSFRONT_KEEP_INN']) await rm(this.dir, { recursive: true, force: true });
  }

  /** Synchronous stop for process exit (a test forgot stop()). */
  emergencyStop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      execFileSync(join(INN_BIN_DIR, 'ctlinnd'), ['-t', '10', 'shutdown', 'test process exit'], { env: this.env, stdio: 'ignore' });
    } catch {
      // nothing more can be done synchronously
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private expectedOf(article: Buffer): ExpectedArticle {
    const messageId = headerValue(article, 'Message-ID')?.trim();
    const ng = headerValue(article, 'Newsgroups');
    if (!messageId || !ng) throw new InnHarnessError('REJECTED', 'article lacks Message-ID or Newsgroups; INN would reject it');
    return { messageId, groups: ng.split(',').map((g) => g.trim()) };
  }

  async inject(articles: Buffer[]): Promise<void> {
    if (articles.length === 0) return;
    const expected = articles.map((a) => this.expectedOf(a));
    const path = join(this.dir, 'batches', `inject-${++this.batchSeq}.batch`);
    const chunks: Buffer[] = [];
    for (const a of articles) {
      const lf = crlfToLf(a);
      chunks.push(Buffer.from(`#! rnews ${lf.length}\n`, 'latin1'), lf);
    }
    await writeFile(path, Buffer.concat(chunks));
    try {
      await this.injectBatchFile(path, expected);
    } finally {
      await rm(path, { force: true });
    }
  }

  async injectBatchFile(path: string, expected: ExpectedArticle[]): Promise<void> {
    if (this.stopped) throw new InnHarnessError('STOPPED', 'INN instance already stopped');
    const probe = await NntpProbe.connect(this.host, this.port);
    try {
      const want = new Map<string, number>();
      for (const e of expected) {
        for (const g of new Set(e.groups)) if (this.groups.has(g)) want.set(g, (want.get(g) ?? 0) + 1);
      }
      for (const [g, n] of want) want.set(g, n + ((await probe.group(g))?.count ?? 0));
      // INN drops duplicates silently (no stderr line): refuse them here instead of timing out.
      const ids = expected.map((e) => e.messageId);
      const seen = new Set<string>();
      const dups = new Set<string>();
      for (const id of ids) (seen.has(id) ? dups : seen).add(id);
      const pre = statSample(ids);
      for (let i = 0; i < pre.length; i += STAT_WINDOW) {
        const rs = await Promise.all(pre.slice(i, i + STAT_WINDOW).map((id) => probe.command(`STAT ${id}`)));
        rs.forEach((res, k) => res.code === 223 && dups.add(pre[i + k]!));
      }
      if (dups.size > 0) throw new InnHarnessError('REJECTED', `duplicate Message-ID(s), already on the server or twice in the batch: ${[...dups].slice(0, 5).join(' ')}`);
      const t0 = Date.now();
      const r = await this.tool('rnews', ['-N', '-v', path]);
      const t1 = Date.now();
      const rejected = r.stderr.split('\n').filter((l) => /rejected|cannot|can't|failed/i.test(l));
      if (r.code !== 0 || rejected.length > 0) {
        throw new InnHarnessError('REJECTED', `rnews exit ${r.code}; ${rejected.length} problem line(s):\n${r.stderr.slice(0, 4000)}`);
      }
      await this.waitFiled(probe, want, ids);
      this.log.debug({ articles: ids.length, rnewsMs: t1 - t0, visibleMs: Date.now() - t1 }, 'inn: injected');
    } finally {
      await probe.close();
    }
  }

  private async waitFiled(probe: NntpProbe, want: Map<string, number>, ids: string[]): Promise<void> {
    const deadline = Date.now() + FILED_TIMEOUT_MS;
    let missing: string[] = [];
    for (;;) {
      missing = [];
      for (const [g, n] of want) {
        const c = (await probe.group(g))?.count ?? 0;
        if (c < n) missing.push(`${g}: ${c}/${n}`);
      }
      if (missing.length === 0) {
        const post = statSample(ids);
        for (let i = 0; i < post.length; i += STAT_WINDOW) {
          const rs = await Promise.all(post.slice(i, i + STAT_WINDOW).map((id) => probe.command(`STAT ${id}`)));
          rs.forEach((r, k) => {
            if (r.code !== 223) missing.push(`${post[i + k]}: ${r.line}`);
          });
        }
        if (missing.length === 0) return;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const spooled = await readdir(join(this.dir, 'incoming')).catch(() => []);
    throw new InnHarnessError(
      'NOT_FILED',
      `articles not visible after ${FILED_TIMEOUT_MS} ms (a group short of its count may mean INN dropped a duplicate): ${missing.slice(0, 10).join('; ')}` +
        (spooled.length > 2 ? ` (rnews spooled files in incoming/: innd was unreachable)` : ''),
    );
  }

  post(article: Buffer): Promise<void> {
    return this.inject([article]);
  }

  async addGroup(name: string): Promise<void> {
    cfg.checkGroupName(name);
    const r = await this.tool('ctlinnd', ['-t', String(CTLINND_TIMEOUT_S), 'newgroup', name, 'y', 'tester']);
    if (r.code !== 0) throw new InnHarnessError('COMMAND_FAILED', `ctlinnd newgroup ${name}: ${r.stderr || r.stdout.toString()}`);
    this.groups.add(name);
  }

  async cancel(messageId: string): Promise<void> {
    const r = await this.tool('ctlinnd', ['-t', String(CTLINND_TIMEOUT_S), 'cancel', messageId]);
    if (r.code !== 0) throw new InnHarnessError('COMMAND_FAILED', `ctlinnd cancel ${messageId}: ${r.stderr || r.stdout.toString()}`);
  }

  async storedArticle(messageId: string): Promise<Buffer> {
    return (await this.storedArticles([messageId]))[0]!;
  }

  async storedArticles(messageIds: string[]): Promise<Buffer[]> {
    try {
      return await readStoredArticles(this.env, messageIds);
    } catch (err) {
      if (err instanceof InnToolError && err.code === 'NOT_FOUND') throw new InnHarnessError('NOT_FOUND', err.message, { cause: err });
      throw err;
    }
  }
}

/**
 * Start a private INN with `groups` (all posting-allowed, `y`), inject `articles`
 * if given, and resolve once a reader gets the 200 greeting and the articles are
 * filed. The caller must call `stop()` (an exit hook shuts down forgotten ones).
 * Throws `InnHarnessError` START_FAILED / REJECTED / NOT_FILED.
 */
export async function startInn(opts: StartInnOptions): Promise<InnServer> {
  const log = opts.logger ?? silentLogger();
  const ids = newsIds();
  const dir = await mkdtemp(join(tmpdir(), 'nf-inn-'));
  const inn = new PrivateInn(dir, await freePort(), opts.pathhost ?? 'news.test', opts.groups, log, ids);
  installExitHook();
  live.add(inn);
  try {
    await inn.prepare(opts.descriptions ?? {}, opts.historySize, opts.extraOverview);
    await inn.start();
    if (opts.articles && opts.articles.length > 0) await inn.inject(opts.articles);
  } catch (err) {
    await inn.stop().catch(() => undefined);
    throw err;
  }
  return inn;
}
