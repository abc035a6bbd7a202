/**
 * The two flag rows of issue 14 without INN: one IMAP server in this process
 * over a fixed mailbox of `--count` messages (default 50,000), with the local
 * LMDB flag store (as `--state local`), one raw-socket session timing
 *
 *   UID STORE 1:N +FLAGS.SILENT (flag)   a new flag each round, so each round changes all N
 *   UID FETCH 1:N (FLAGS)                right after, with those flags set
 *
 * from sending the command to its tagged OK (bench/imap-client.ts), `--rounds` times (default 5),
 * printing every round and the median. `--fragmented` first sets \Flagged on
 * every other UID (25,000 ranges) to show the cost with many ranges;
 * `--remote` uses a state agent in this process over HTTP instead of LMDB.
 *
 *   npx tsx bench/flag-rows.ts [--count 50000] [--rounds 5] [--fragmented] [--remote]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapServer } from '../src/imap/server.js';
import { RenderCache } from '../src/imap/render/cache.js';
import { Users } from '../src/app/auth/users.js';
import { silentLogger } from '../src/util/log.js';
import { LmdbFlagStore } from '../src/stateagent/stores/local.js';
import { RemoteFlagStore } from '../src/stateagent/stores/remote.js';
import type { FlagStore } from '../src/stateagent/flagstore.js';
import { Tokens } from '../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../src/stateagent/agent/server.js';
import { FixtureBackend } from '../test/imap/fixture-backend.js';
import { RawImap } from './imap-client.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const COUNT = arg('count', 50_000);
const ROUNDS = arg('rounds', 5);
const FRAGMENTED = process.argv.includes('--fragmented');
const REMOTE = process.argv.includes('--remote');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nf-flag-rows-'));
  const backend = new FixtureBackend();
  const article = Buffer.from('From: a@example.org\r\nSubject: s\r\nMessage-ID: <r@example.org>\r\n\r\nbody\r\n', 'latin1');
  for (let uid = 1; uid <= COUNT; uid++) backend.add('bench.big', uid, article);
  let agent: RunningAgent | undefined;
  let store: FlagStore;
  if (REMOTE) {
    const tokens = new Tokens();
    tokens.add('bench-frontend-token-0123456789', { kind: 'frontend', name: 'bench' });
    agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
    store = new RemoteFlagStore({ url: `http://127.0.0.1:${agent.port}`, token: 'bench-frontend-token-0123456789', logger: silentLogger() });
  } else store = await LmdbFlagStore.open({ path: join(dir, 'flags.lmdb'), logger: silentLogger() });
  const server = new ImapServer({
    backend,
    renderCache: new RenderCache(),
    auth: Users.parse('bench:{PLAIN}bench\n'),
    flagStoreFor: () => store,
    tls: undefined,
    options: {
      anonymous: false, allowPlaintextAuth: true, namespacePrefix: '', idleTimeoutMs: 30 * 60_000,
      loginFailureDelayMs: 10, compress: false, persistentFlags: true, crosspostSeen: false,
    },
  }, silentLogger());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const c = await RawImap.connect('127.0.0.1', port);
  const timed = async (_tag: string, cmd: string): Promise<number> => {
    const r = await c.command(cmd);
    if (r.status !== 'OK') throw new Error(`${cmd.slice(0, 60)}: ${r.status} ${r.text}`);
    return r.seconds * 1000;
  };
  try {
    await timed('L', 'LOGIN bench bench');
    await timed('S', 'SELECT bench.big');
    if (FRAGMENTED) {
      for (let lo = 1; lo <= COUNT; lo += 2000) {
        const odd: string[] = [];
        for (let u = lo; u < Math.min(lo + 2000, COUNT + 1); u += 2) odd.push(String(u));
        await timed('F', `UID STORE ${odd.join(',')} +FLAGS.SILENT (\\Flagged)`);
      }
    }
    const stores: number[] = [];
    const fetches: number[] = [];
    const flags = ['\\Seen', '\\Answered', '\\Draft', '$Bench4', '$Bench5', '$Bench6', '$Bench7', '$Bench8'];
    for (let i = 0; i < ROUNDS; i++) {
      stores.push(await timed(`s${i}`, `UID STORE 1:${COUNT} +FLAGS.SILENT (${flags[i % flags.length]})`));
      fetches.push(await timed(`f${i}`, `UID FETCH 1:${COUNT} (FLAGS)`));
    }
    const show = (xs: number[]) => `${xs.map((x) => x.toFixed(0)).join(' ')} ms, median ${median(xs).toFixed(0)} ms`;
    console.log(`UID STORE 1:${COUNT} +FLAGS.SILENT (${REMOTE ? 'remote agent' : 'local LMDB'}${FRAGMENTED ? ', fragmented' : ''}): ${show(stores)}`);
    console.log(`UID FETCH 1:${COUNT} (FLAGS) right after: ${show(fetches)}`);
  } finally {
    c.close();
    await server.close();
    await store.close();
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
