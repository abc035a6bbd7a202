/**
 * The load side of bench/soak.ts: one round of a soak session (see soak.ts for
 * the mix) over the load benches' line client (load-client.ts). A round throws
 * on a tagged BAD, an unexpected NO, a closed connection or COMMAND_TIMEOUT_MS;
 * the caller counts it.
 */
import { LoadClient } from './load-client.js';

export const GROUPS = ['sample.discuss', 'sample.i18n', 'sample.announce', 'sample.binaries'];
export const USERS = Array.from({ length: 8 }, (_, i) => `soak${i + 1}`);
const WORDS = ['the', 'news', 'test', 'release', 'hello', 'question', 'é', 'zzzzqq'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
  const c = await LoadClient.open(port);
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
