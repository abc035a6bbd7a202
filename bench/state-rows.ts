/**
 * Bench rows of the state-agent issue, for one flag store (`local` LMDB or
 * the remote agent over HTTP), logged in as a real user (anonymous sessions
 * always get session-only flags):
 *   SELECT of the big group with flags (warm), UID STORE 1:50000 +FLAGS \Seen,
 *   UID FETCH 1:* (UID FLAGS), and STOREs/s from 50 concurrent sessions
 *   (for the remote store: agent requests/s as the front-end sees them).
 */
import { median, type Row } from './report.js';
import { openSession, rounds } from './session.js';

const SECTION = 'State (durable flags)';

export interface StateInput {
  port: number;
  mailbox: string;
  count: number;
  rounds: number;
  user: string;
  pass: string;
}

export async function stateRows(input: StateInput, mode: string, add: (row: Row) => void, log: (m: string) => void): Promise<void> {
  const n = Math.min(50_000, Math.floor(input.count / 2));
  const row = async (operation: string, target: number | undefined, fn: (round: number) => Promise<number>): Promise<void> => {
    log(`state: ${operation}`);
    try {
      const xs = await rounds(input.rounds, fn);
      add({ section: SECTION, operation, unit: 's', value: median(xs), rounds: xs, ...(target !== undefined ? { target } : {}) });
    } catch (err) {
      add({ section: SECTION, operation, unit: 's', value: `n/a: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
    }
  };
  await row(`UID STORE 1:${n} +FLAGS.SILENT, ${mode}`, 0.041, async (i) => {
    const s = await openSession(input.port, input.mailbox, input.user, input.pass);
    try {
      // a flag no UID has yet, so every round changes (and writes) all N: a STORE that
      // changes nothing takes no modseq and writes nothing (docs/agent-api.md)
      const flag = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft'][i] ?? `$Bench${i}`;
      return (await s.client.ok(`UID STORE 1:${n} +FLAGS.SILENT (${flag})`)).seconds;
    } finally {
      s.client.close();
    }
  });
  await row(`connect + LOGIN + SELECT with flags, warm, ${mode}`, 0.01, async () => {
    const s = await openSession(input.port, input.mailbox, input.user, input.pass);
    s.client.close();
    return s.seconds;
  });
  await row(`UID FETCH 1:* (UID FLAGS) with flags set, ${mode}`, 0.3, async () => {
    const s = await openSession(input.port, input.mailbox, input.user, input.pass);
    try {
      return (await s.client.ok('UID FETCH 1:* (UID FLAGS)')).seconds;
    } finally {
      s.client.close();
    }
  });
  // 50 concurrent sessions of the user, each storing single flags for a few seconds
  const operation = `50 concurrent sessions, UID STORE of one UID each, ${mode}`;
  log(`state: ${operation}`);
  try {
    const sessions = await Promise.all(Array.from({ length: 50 }, () => openSession(input.port, input.mailbox, input.user, input.pass)));
    const until = performance.now() + 5_000;
    let done = 0;
    await Promise.all(
      sessions.map(async (s, k) => {
        let uid = 1 + k;
        while (performance.now() < until) {
          await s.client.ok(`UID STORE ${uid} ${done % 2 ? '-' : '+'}FLAGS.SILENT (\\Flagged)`);
          done++;
          uid = (uid + 50) % Math.max(input.count, 1) || 1;
        }
      }),
    );
    for (const s of sessions) s.client.close();
    add({ section: SECTION, operation, unit: 'cmd/s', value: done / 5, note: `${done} STOREs in 5 s, each durable before its OK` });
  } catch (err) {
    add({ section: SECTION, operation, unit: 'cmd/s', value: `n/a: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
  }
}
