/**
 * The load side of bench/soak.ts: a line-level IMAP client and one round of a
 * soak session (see soak.ts for the mix). A round throws on a tagged BAD, an
 * unexpected NO, a closed connection or COMMAND_TIMEOUT_MS; the caller counts it.
 */
import { connect, type Socket } from 'node:net';

export const GROUPS = ['sample.discuss', 'sample.i18n', 'sample.announce', 'sample.binaries'];
export const USERS = Array.from({ length: 8 }, (_, i) => `soak${i + 1}`);
const WORDS = ['the', 'news', 'test', 'release', 'hello', 'question', 'é', 'zzzzqq'];
const COMMAND_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A line-level client: enough framing to find tagged lines and the `+` of IDLE. */
export class SoakClient {
  private buf = '';
  private wake: (() => void) | undefined;
  private seq = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<SoakClient> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    const c = new SoakClient(s);
    await c.wait((t) => t.includes('\r\n'));
    c.buf = '';
    return c;
  }

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

  /** Send a command; resolves with the response; throws on NO/BAD (unless `allowNo`), close or timeout. */
  async cmd(command: string, allowNo = false): Promise<string> {
    const tag = `S${++this.seq}`;
    this.socket.write(`${tag} ${command}\r\n`);
    const re = new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)([^\\r\\n]*)\\r\\n`);
    const text = await this.wait((t) => re.test(t));
    this.buf = '';
    const m = re.exec(text)!;
    if (m[1] === 'BAD' || (m[1] === 'NO' && !allowNo)) throw new Error(`${command.slice(0, 50)} → ${m[1]}${m[2]}`);
    return text;
  }

  /** Start IDLE: resolves at the `+`; returns the tag for DONE. */
  async idle(): Promise<string> {
    const tag = `S${++this.seq}`;
    this.socket.write(`${tag} IDLE\r\n`);
    await this.wait((t) => /(^|\r\n)\+ /.test(t));
    return tag;
  }

  async done(tag: string): Promise<void> {
    this.socket.write('DONE\r\n');
    const re = new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)([^\\r\\n]*)\\r\\n`);
    const text = await this.wait((t) => re.test(t));
    this.buf = '';
    if (re.exec(text)![1] !== 'OK') throw new Error('IDLE did not end OK');
  }

  /** What arrived unasked (IDLE updates), cleared. */
  takeText(): string {
    const t = this.buf;
    this.buf = '';
    return t;
  }
}

export interface Counters {
  rounds: number;
  commands: number;
  idleUpdates: number;
  errors: number;
  errorSamples: string[];
  midIdleCloses: number;
}

export async function round(port: number, rnd: () => number, n: Counters): Promise<void> {
  const user = USERS[Math.floor(rnd() * USERS.length)]!;
  const group = GROUPS[Math.floor(rnd() * GROUPS.length)]!;
  const c = await SoakClient.open(port);
  try {
    await c.cmd(`LOGIN ${user} pw-${user}`);
    const sel = await c.cmd(`${rnd() < 0.85 ? 'SELECT' : 'EXAMINE'} ${group}`);
    n.commands += 2;
    const exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? 0);
    const ops = 1 + Math.floor(rnd() * 5);
    for (let i = 0; i < ops && exists > 0; i++) {
      const r = rnd();
      const seq = 1 + Math.floor(rnd() * exists);
      const hi = Math.min(exists, seq + 20);
      if (r < 0.25) await c.cmd(`FETCH ${seq}:${hi} (UID FLAGS ENVELOPE)`);
      else if (r < 0.4) await c.cmd(`FETCH ${seq} (UID BODY.PEEK[])`);
      else if (r < 0.55) {
        const key = ['SUBJECT', 'FROM', 'BODY'][Math.floor(rnd() * 3)]!;
        await c.cmd(`UID SEARCH CHARSET UTF-8 ${key} "${WORDS[Math.floor(rnd() * WORDS.length)]!}"`);
      } else if (r < 0.8) await c.cmd(`STORE ${seq}:${hi} ${rnd() < 0.5 ? '+' : '-'}FLAGS (${rnd() < 0.7 ? '\\Seen' : '\\Flagged'})`, true);
      else if (r < 0.9) await c.cmd('FETCH 1:* (FLAGS)');
      else await c.cmd(`STATUS ${GROUPS[Math.floor(rnd() * GROUPS.length)]!} (MESSAGES UNSEEN UIDNEXT)`);
      n.commands++;
    }
    const tag = await c.idle();
    n.commands++;
    await sleep(300 + rnd() * 2700);
    if (/\* \d+ FETCH/.test(c.takeText())) n.idleUpdates++;
    const end = rnd();
    if (end < 0.45) {
      c.socket.destroy();
      n.midIdleCloses++;
    } else if (end < 0.6) {
      c.socket.resetAndDestroy();
      n.midIdleCloses++;
    } else {
      await c.done(tag);
      await c.cmd('LOGOUT');
      n.commands++;
    }
    n.rounds++;
  } finally {
    c.socket.destroy();
  }
}
