/**
 * The line-level IMAP client of the load benches (load-sessions.ts and the
 * soak's soak-load.ts): just enough framing to find a tagged line or the `+`
 * of IDLE; everything received is kept as latin1 text until taken.
 *
 *   const c = await LoadClient.open(port);          // waits for the greeting
 *   const text = await c.cmd('SELECT sample.discuss');
 *
 * Contract: one command at a time (the caller awaits each). `cmd` resolves with
 * the text up to and including its tagged line, and throws on BAD, on NO
 * (unless `allowNo`), on a closed connection and after COMMAND_TIMEOUT_MS.
 * The client owns its socket; `close()` destroys it.
 */
import { connect, type Socket } from 'node:net';

/**
 * A command that takes longer is an error (a hang, not a slow answer). SEARCH
 * under 100 sessions on a loaded 2-core box took up to 10 s when measured, so
 * the bound leaves room for that and catches only real hangs.
 */
export const COMMAND_TIMEOUT_MS = 60_000;

/** What `tagged` looks at: the end of what arrived (a tagged line is the last of its response and far shorter). */
const TAIL_CHARS = 4096;

export class LoadClient {
  private buf = '';
  /** The last TAIL_CHARS or more of `buf`, from a line start when cut (a 600 KB SEARCH answer is not scanned again per chunk). */
  private tail = '';
  private wake: (() => void) | undefined;
  private seq = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      const t = this.tail + d;
      if (t.length <= 2 * TAIL_CHARS) this.tail = t;
      else {
        const cut = t.indexOf('\r\n', t.length - TAIL_CHARS);
        this.tail = cut < 0 ? t.slice(-TAIL_CHARS) : t.slice(cut);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, host = '127.0.0.1'): Promise<LoadClient> {
    const s = connect(port, host);
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    const c = new LoadClient(s);
    try {
      await c.wait((t) => t.includes('\r\n'));
    } catch (err) {
      c.close(); // no greeting: the socket must not keep the process alive
      throw err;
    }
    c.buf = '';
    c.tail = '';
    return c;
  }

  /** Resolves with the text received so far once `pred` holds for it; throws on close or after `ms`. */
  async wait(pred: (t: string) => boolean, ms = COMMAND_TIMEOUT_MS): Promise<string> {
    const end = Date.now() + ms;
    while (!pred(this.buf)) {
      if (this.closed) throw new Error('connection closed');
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timeout after ${ms} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          res();
        };
      });
    }
    return this.buf;
  }

  /** Sends `command`; resolves with the response text; throws on BAD, NO (unless `allowNo`), close or timeout. */
  async cmd(command: string, allowNo = false): Promise<string> {
    const tag = `L${++this.seq}`;
    this.socket.write(`${tag} ${command}\r\n`);
    const m = await this.tagged(tag);
    if (m[1] === 'BAD' || (m[1] === 'NO' && !allowNo)) throw new Error(`${command.slice(0, 60)} → ${m[1]}${m[2]}`);
    return m.input;
  }

  /** Starts IDLE: resolves at the `+`; returns the tag for `done`. */
  async idle(): Promise<string> {
    const tag = `L${++this.seq}`;
    this.socket.write(`${tag} IDLE\r\n`);
    await this.wait((t) => /(^|\r\n)\+ /.test(t));
    return tag;
  }

  /** Ends the IDLE of `tag`; throws unless it ends OK. */
  async done(tag: string): Promise<void> {
    this.socket.write('DONE\r\n');
    if ((await this.tagged(tag))[1] !== 'OK') throw new Error('IDLE did not end OK');
  }

  /** What arrived unasked (IDLE updates), cleared. */
  takeText(): string {
    const t = this.buf;
    this.buf = '';
    this.tail = '';
    return t;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Waits for the tagged line of `tag`, takes the text and returns the match: [1] status, [2] the rest, `input` the text. */
  private async tagged(tag: string): Promise<RegExpExecArray> {
    const re = new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)([^\\r\\n]*)\\r\\n`);
    await this.wait(() => re.test(this.tail));
    const m = re.exec(this.tail)!;
    const text = this.buf;
    this.buf = '';
    this.tail = '';
    return Object.assign(m, { input: text });
  }
}
