/**
 * Development aid (not part of `npm run bench`): the repeated rows that touch
 * cached article bytes, many rounds each, against an INN that is already
 * running (bench/hold-inn.ts). Per row: median wall time of a round, the
 * server's CPU time per round (utime+stime over all rounds ÷ rounds, from
 * /proc/PID/stat) and the load average, so two builds measured alternately
 * on a busy machine can be compared on CPU as well as wall time.
 *
 *   npm run build && node dist/bench/bytes-again.js --port P [--rounds 25] [--cli dist/src/cli.js] [--only bodies|structure]
 *
 * The client's own CPU time per round (process.cpuUsage: reading and
 * framing the responses) is printed too: a wall time near it is the
 * client's, not the server's.
 *
 * Rows (fresh data dir):
 *   1,000 × BODY.PEEK[] in one command, again (every article cached: read once untimed);
 *   UID FETCH 1:* (BODYSTRUCTURE), computed: every article's bytes read once before
 *   (untimed), the structures not stored, nothing rendered (one round: it stores them);
 *   the same listing warm; after a restart on the same data dir (structures
 *   stored, nothing rendered: what the bench's "first" row meets once the
 *   index crawler has stored every structure), and warm again;
 *   BODY.PEEK[2]<0.1024> of the large part again, and the whole large article.
 * `BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"` profiles the server.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { median } from './report.js';
import { procCpuSeconds, freePort, startServer, type ServerProcess } from './server.js';
import { openSession } from './session.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Waits (up to 60 s) until the server used under 20 ms of CPU in the last half second: background work done (the first SELECT's ingest). */
async function quiet(pid: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const c0 = await procCpuSeconds(pid);
    await new Promise((res) => setTimeout(res, 500));
    if ((await procCpuSeconds(pid)) - c0 < 0.02) return;
  }
}

const fmt = (s: number): string => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

async function main(): Promise<void> {
  const port = Number(arg('--port'));
  if (!(port > 0)) throw new Error('--port P is required');
  const n = Math.max(1, Number(arg('--rounds') ?? 25));
  const cli = arg('--cli');
  const only = arg('--only');
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(false), () => undefined);
  const L = corpus.large;
  const lo = L && L.number <= 1000 ? L.number + 1 : 1;
  const hi = Math.min(corpus.messageIds.length, lo + 999);
  const dataDir = await mkdtemp(join(tmpdir(), 'nf-again-'));
  let server: ServerProcess | undefined;
  const launch = async (k: number): Promise<ServerProcess> =>
    startServer({ upstreamPort: port, dataDir, listenPort: await freePort(), logPath: join(dataDir, `server${k}.log`), ...(cli ? { cli: resolve(cli) } : {}), config: { index: { crawlDelayMs: 86_400_000 } } });
  try {
    server = await launch(1);
    let s = await openSession(server.port, corpus.group);
    const row = async (name: string, cmd: string, rounds: number, timeoutMs = 600_000): Promise<void> => {
      await quiet(server!.pid);
      const c0 = await procCpuSeconds(server!.pid);
      const own0 = process.cpuUsage();
      const xs: number[] = [];
      let bytes = 0;
      for (let i = 0; i < rounds; i++) {
        const r = await s.client.ok(cmd, { timeoutMs });
        xs.push(r.seconds);
        bytes = r.bytes;
      }
      const own = process.cpuUsage(own0);
      const clientCpu = (own.user + own.system) / 1e6 / rounds;
      const cpu = ((await procCpuSeconds(server!.pid)) - c0) / rounds;
      const load = (await readFile('/proc/loadavg', 'latin1')).split(' ')[0];
      xs.sort((a, b) => a - b);
      process.stdout.write(`${name.padEnd(44)} median ${fmt(median(xs)).padStart(9)}  min ${fmt(xs[0]!).padStart(9)}  cpu/round ${fmt(cpu).padStart(9)}  client cpu/round ${fmt(clientCpu).padStart(9)}  load ${load}  ${(bytes / 1e6).toFixed(1)} MB\n`);
    };
    if (only !== 'structure') {
      const bodies = `UID FETCH ${lo}:${hi} (BODY.PEEK[])`;
      await s.client.ok(bodies);
      await row('1,000 × BODY.PEEK[], again', bodies, n);
    }
    if (only !== 'bodies') {
      // every article's bytes cached, no structure stored (a range fetch of BODY[] stores none)
      for (let a = 1; a <= corpus.messageIds.length; a += 1000) await s.client.ok(`UID FETCH ${a}:${a + 999} (BODY.PEEK[]<0.1>)`, { timeoutMs: 600_000 });
      await row('UID FETCH 1:* (BODYSTRUCTURE), computed', 'UID FETCH 1:* (BODYSTRUCTURE)', 1);
      await row('UID FETCH 1:* (BODYSTRUCTURE), warm', 'UID FETCH 1:* (BODYSTRUCTURE)', Math.max(3, Math.round(n / 5)));
      s.client.close();
      await server.stop();
      server = await launch(2);
      s = await openSession(server.port, corpus.group);
      await row('UID FETCH 1:* (BODYSTRUCTURE), stored', 'UID FETCH 1:* (BODYSTRUCTURE)', 1);
      await row('UID FETCH 1:* (BODYSTRUCTURE), stored, warm', 'UID FETCH 1:* (BODYSTRUCTURE)', Math.max(3, Math.round(n / 5)));
    }
    if (L && only !== 'structure' && only !== 'bodies') {
      await s.client.ok(`UID FETCH ${L.number} (BODY.PEEK[2]<0.1024>)`);
      await row('BODY.PEEK[2]<0.1024> of the large, again', `UID FETCH ${L.number} (BODY.PEEK[2]<0.1024>)`, n);
      await row('BODY.PEEK[] of the whole large article', `UID FETCH ${L.number} (BODY.PEEK[])`, Math.max(3, Math.round(n / 3)));
    }
    s.client.close();
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bytes-again failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
