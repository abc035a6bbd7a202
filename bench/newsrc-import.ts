/**
 * What a big `.newsrc` import costs the state agent (issue 12 #11): an agent
 * in this process on a temp dir, a generated `.newsrc` of `--groups` groups
 * (default 55,000, about 1 MB), then
 *
 *   1. one import alone: its time, the longest event-loop stall meanwhile
 *      (perf_hooks histogram) and how long a GET of another user's flags,
 *      sent every 20 ms during the import, took at most;
 *   2. `--parallel` imports at once (default 6, one user each): time of each,
 *      the longest stall, the peak RSS sampled every 50 ms.
 *
 *   npx tsx bench/newsrc-import.ts [--groups 55000] [--parallel 6]
 *
 * Prints one line per figure. Temp dir removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { silentLogger } from '../src/util/log.js';
import { Tokens } from '../src/stateagent/agent/auth.js';
import { startAgent } from '../src/stateagent/agent/server.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const GROUPS = arg('groups', 55_000);
const PARALLEL = arg('parallel', 6);
const FE = 'bench-frontend-token-0123456789';

/** A `.newsrc` as a newsreader with a full group list writes it: most groups unread or unsubscribed. */
function newsrc(seed: number): string {
  const lines: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const name = `alt.g${g}`;
    if ((g + seed) % 5 === 0) lines.push(`${name}: 1-${100 + (g % 900)},${1200 + (g % 7)}`);
    else if ((g + seed) % 5 === 1) lines.push(`${name}! 1-${g % 50}`);
    else lines.push(`${name}!`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nf-newsrc-bench-'));
  const tokens = new Tokens();
  tokens.add(FE, { kind: 'frontend', name: 'bench' });
  const agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
  const base = `http://127.0.0.1:${agent.port}`;
  const auth = { authorization: `Bearer ${FE}` };
  const put = async (user: string, text: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(`${base}/v1/users/${user}/newsrc?uidvalidity=1`, {
      method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: text,
    });
    const body = await r.text();
    if (r.status !== 200) throw new Error(`import for ${user}: ${r.status} ${body.slice(0, 200)}`);
    return performance.now() - t0;
  };
  try {
    await fetch(`${base}/v1/users/other/mailboxes/alt.x/1/flags`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ uids: '1-5', op: 'add', flags: ['\\Seen'] }),
    });
    const text = newsrc(0);
    console.log(`newsrc: ${GROUPS} groups, ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`);

    // 1. one import, probed by GETs of another user's flags
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    let probeMax = 0;
    let probes = 0;
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t0 = performance.now();
        const r = await fetch(`${base}/v1/users/other/mailboxes/alt.x/1/flags`, { headers: auth });
        await r.text();
        probeMax = Math.max(probeMax, performance.now() - t0);
        probes++;
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const ms = await put('alone', text);
    done = true;
    await probe;
    h.disable();
    console.log(`one import: ${ms.toFixed(0)} ms; longest event-loop stall ${(h.max / 1e6).toFixed(0)} ms; `
      + `${probes} GETs of another user meanwhile, slowest ${probeMax.toFixed(0)} ms`);

    // 2. several at once
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let heapPeak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed + m.external);
    }, 50);
    const h2 = monitorEventLoopDelay({ resolution: 5 });
    h2.enable();
    const texts = Array.from({ length: PARALLEL }, (_, i) => newsrc(i + 1));
    const t0 = performance.now();
    const times = await Promise.all(texts.map((t, i) => put(`par${i}`, t)));
    const wall = performance.now() - t0;
    h2.disable();
    clearInterval(sampler);
    console.log(`${PARALLEL} imports at once: wall ${wall.toFixed(0)} ms, each ${times.map((x) => x.toFixed(0)).join('/')} ms; `
      + `longest stall ${(h2.max / 1e6).toFixed(0)} ms; RSS ${(rss0 / 1e6).toFixed(0)} → peak ${(peak / 1e6).toFixed(0)} MB `
      + `(heap + external peak ${(heapPeak / 1e6).toFixed(0)} MB)`);
  } finally {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
