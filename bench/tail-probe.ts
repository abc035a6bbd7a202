/**
 * Development aid (not part of `npm run bench`): how long a command waits while
 * the large article downloads (issue 14, the row "BODY.PEEK[2]<0.1024> of the
 * large attachment, again" runs during that download's tail).
 *
 *   npm run build && node dist/bench/tail-probe.js --port P [--rounds 3] [--cli other/dist/src/cli.js] [--probe-ms 150]
 *
 * Per round: a fresh server on a fresh data dir, warmed by 1,000 bodies; `UID FETCH <large>
 * (BODY.PEEK[2]<0.1024>)` (the first answer, sent while the rest of the 57 MB
 * still comes from INN), then, one command at a time for `--probe-ms`,
 * alternately the same command again and `UID FETCH <large> (FLAGS)`; then
 * `BODY.PEEK[]` of the whole article (it waits for the download's end).
 * Prints the probes' latencies by time since the first answer (median, 90th
 * percentile, max, count) and the whole article's time, per round and over all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { freePort, startServer } from './server.js';
import { openSession } from './session.js';
import { rowScriptArgs } from './args.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

/** Windows after the first answer, ms: a probe counts in the first whose end it started before. */
const WINDOWS = [10, 25, 50, 100, 200, Infinity];

interface Probe {
  at: number;
  ms: number;
  kind: 'again' | 'flags';
}

function stats(xs: number[]): string {
  if (xs.length === 0) return '—';
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number): number => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return `med ${q(0.5).toFixed(2)} p90 ${q(0.9).toFixed(2)} max ${s[s.length - 1]!.toFixed(2)} n ${s.length}`;
}

function table(probes: Probe[]): string {
  const out: string[] = [];
  let from = 0;
  for (const to of WINDOWS) {
    const inW = probes.filter((p) => p.at >= from && p.at < to);
    if (inW.length > 0) {
      const label = `${from}–${to === Infinity ? '' : to} ms`.padEnd(12);
      out.push(`  ${label} again ${stats(inW.filter((p) => p.kind === 'again').map((p) => p.ms)).padEnd(40)} FLAGS ${stats(inW.filter((p) => p.kind === 'flags').map((p) => p.ms))}`);
    }
    from = to;
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  let probeMs = 150;
  const args = rowScriptArgs(process.argv.slice(2), (name, next) => (name === '--probe-ms' ? ((probeMs = Number(next())), true) : false));
  const log = (m: string): void => void process.stderr.write(`[tail-probe] ${m}\n`);
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(args.quick), log);
  const L = corpus.large;
  if (!L) throw new Error('the corpus has no large article');
  const all: Probe[] = [];
  const firsts: number[] = [];
  const wholes: number[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'nf-tail-'));
    const server = await startServer({ upstreamPort: args.port, dataDir, listenPort: await freePort(), logPath: join(args.logDir ?? dataDir, 'server.log'), ...(args.cli ? { cli: args.cli } : {}) });
    try {
      const s = await openSession(server.port, corpus.group);
      const partial = `UID FETCH ${L.number} (BODY.PEEK[2]<0.1024>)`;
      const flags = `UID FETCH ${L.number} (FLAGS)`;
      // warm the server as bytes-rows' earlier rows do: 1,000 bodies (NNTP connections open, code compiled)
      const lo = L.number <= 1000 ? L.number + 1 : 1;
      await s.client.ok(`UID FETCH ${lo}:${Math.min(corpus.messageIds.length, lo + 999)} (BODY.PEEK[])`);
      await s.client.ok(flags);
      const first = await s.client.ok(partial);
      const t0 = performance.now();
      const probes: Probe[] = [];
      for (let i = 0; performance.now() - t0 < probeMs; i++) {
        const at = performance.now() - t0;
        const kind = i % 2 === 0 ? 'again' : 'flags';
        const r = await s.client.ok(kind === 'again' ? partial : flags);
        probes.push({ at, ms: r.seconds * 1000, kind });
      }
      const whole = await s.client.ok(`UID FETCH ${L.number} (BODY.PEEK[])`);
      s.client.close();
      firsts.push(first.seconds * 1000);
      wholes.push(whole.seconds * 1000);
      all.push(...probes);
      process.stdout.write(`round ${round}: first ${(first.seconds * 1000).toFixed(2)} ms, whole after ${(whole.seconds * 1000).toFixed(1)} ms (${(whole.bytes / 1e6).toFixed(1)} MB)\n${table(probes)}\n`);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`all rounds: first ${stats(firsts)}; whole after probes ${stats(wholes)}\n${table(all)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`tail-probe failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
