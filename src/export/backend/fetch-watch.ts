/**
 * The MIME structure of a long download (fetch.ts) parsed as its bytes come,
 * and the questions readers wait to have answered from it (`Fetch.watch`:
 * where a part is, mime locate.ts).
 *
 *   feed.push(chunk)…  — in order, every byte once
 *   await feed.watch((p) => locateSection(p, [2], '', 1024))  — answered as soon as the parsed prefix decides
 *   feed.end()         — the whole tree (what `parseStructure` of all the bytes gives)
 *
 * While a question waits, a chunk is parsed in PARSE_STEP pieces and the
 * question asked after each; once none waits, the rest of the chunk (and what
 * comes meanwhile) is parsed on a later turn of the event loop (`setImmediate`),
 * so the answer goes out before the rest of a 64 KB chunk is parsed. `end`
 * parses whatever still lags first. Asking is synchronous and `ask` must be
 * pure (it sees the parser's live progress).
 */
import { StructureParser, type MimePart, type ParseProgress } from '../../mime/index.js';
import { PARSE_STEP } from './limits.js';

/** A waiting question: true once it is settled (answered, ended or failed). */
type Watcher = (at: ParseProgress | null, failure: unknown) => boolean;

export class ParseFeed {
  private readonly parser = new StructureParser();
  /** Bytes taken but not parsed yet, in order (parsed on a later turn). */
  private lag: Buffer[] = [];
  private scheduled = false;
  private watchers: Watcher[] = [];
  private closed = false;
  private failure: unknown = null;

  /** Takes the next bytes of the article. */
  push(b: Buffer): void {
    if (this.closed) return;
    if (this.lag.length > 0) {
      this.lag.push(b); // behind: keep the order
      return;
    }
    if (this.watchers.length === 0) {
      this.parser.push(b);
      return;
    }
    for (let at = 0; at < b.length; at += PARSE_STEP) {
      this.parser.push(at === 0 && b.length <= PARSE_STEP ? b : b.subarray(at, at + PARSE_STEP));
      this.ask();
      if (this.watchers.length === 0 && at + PARSE_STEP < b.length) {
        this.lag.push(b.subarray(at + PARSE_STEP));
        this.schedule();
        return;
      }
    }
  }

  /**
   * `ask`'s first answer (not undefined) about the structure parsed so far, asked now and after each
   * piece parsed; undefined when the parse ends first (the whole tree then answers). Rejects with `fail`'s error.
   */
  watch<T>(ask: (at: ParseProgress) => T | undefined): Promise<T | undefined> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve(undefined);
    const now = ask(this.parser.progress());
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T | undefined>((resolve, reject) => {
      this.watchers.push((at, failure) => {
        if (failure !== null) reject(failure);
        else if (at === null) resolve(undefined);
        else {
          const got = ask(at);
          if (got === undefined) return false;
          resolve(got);
        }
        return true;
      });
    });
  }

  /** Parses what lags and ends the parse: the whole tree. Questions still waiting get undefined. */
  end(): MimePart {
    for (const c of this.lag) this.parser.push(c);
    this.lag = [];
    this.closed = true;
    this.settle(null, null);
    return this.parser.end();
  }

  /** The download failed: questions still waiting reject with `err`; nothing more is parsed. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = err;
    this.lag = [];
    this.settle(null, err);
  }

  private ask(): void {
    if (this.watchers.length > 0) this.settle(this.parser.progress(), null);
  }

  private settle(at: ParseProgress | null, failure: unknown): void {
    const left = this.watchers.filter((w) => !w(at, failure));
    this.watchers = left;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed) this.catchUp();
    });
  }

  private catchUp(): void {
    const lag = this.lag;
    this.lag = [];
    for (let i = 0; i < lag.length; i++) {
      this.push(lag[i]!);
      if (this.lag.length > 0) {
        // a question came and was answered in this piece: the rest waits for the next turn again
        for (let j = i + 1; j < lag.length; j++) this.lag.push(lag[j]!);
        return;
      }
    }
  }
}
