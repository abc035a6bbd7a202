/**
 * `npm run fuzz`: the IMAP line fuzzer (test/fuzz/imap-fuzz.ts) at scale.
 *
 *     node --import tsx fuzz/run.ts [--lines N] [--connections C] [--seed S] [--in-process] [--wildcards]
 *
 * Defaults: 1,000,000 lines, 8 connections, seed from the clock (printed, so
 * a failing run can be replayed with --seed). The server runs in a child
 * process over an mboxrd archive (the real export backend), so a blocked
 * event loop shows as a hang and a crash as the child's death — each is
 * recorded, the child restarted, and the run goes on. `--in-process` fuzzes
 * the fixture backend in this process instead (faster; cannot see hangs
 * that block the loop). `--wildcards` adds runs of LIST wildcards to the
 * mutations (they hit the known ReDoS, test/fuzz/list-patterns.test.ts). Prints progress once per
 * second and a summary: lines/s, crashes (must be 0), hangs, NO [SERVERBUG]
 * answers with the line that caused each, max RSS. Exit status 1 when any
 * crash, hang or server bug was seen, 0 otherwise.
 */
import { childTarget, runImapFuzz } from '../test/fuzz/imap-fuzz.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} expects a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

const lines = arg('lines', 1_000_000);
const connections = arg('connections', 8);
const seed = arg('seed', Date.now() % 2 ** 31);
const inProcess = process.argv.includes('--in-process');
const wildcardRuns = process.argv.includes('--wildcards');
process.stdout.write(`fuzz: ${lines} lines, ${connections} connections, seed ${seed}, server ${inProcess ? 'in this process (fixture backend)' : 'in a child process (archive backend)'}${wildcardRuns ? ', wildcard runs' : ''}\n`);
const r = await runImapFuzz({
  lines,
  connections,
  seed,
  wildcardRuns,
  ...(inProcess ? {} : { target: childTarget(seed) }),
  progress: (p) =>
    process.stdout.write(
      `  ${p.lines} lines  ${Math.round(p.linesPerSecond)} lines/s  crashes ${p.crashes.length}  hangs ${p.hangs.length}  serverbugs ${p.serverBugs.length}  fuzzer rss ${Math.round(process.memoryUsage().rss / 1048576)} MB${p.serverMaxRss !== undefined ? `  server max rss ${Math.round(p.serverMaxRss / 1048576)} MB` : ''}\n`,
    ),
});
const mb = (n: number): string => `${Math.round(n / 1048576)} MB`;
process.stdout.write(
  [
    `lines:        ${r.lines} in ${r.seconds.toFixed(1)} s = ${Math.round(r.linesPerSecond)} lines/s`,
    `bytes:        sent ${mb(r.bytesSent)}, received ${mb(r.bytesReceived)}`,
    `connections:  ${r.connectionsOpened} opened, ${r.serverClosed} closed by the server; control pings ${r.pings}`,
    `crashes:      ${r.crashes.length}`,
    ...r.crashes.map((c) => `  ${c}`),
    `hangs:        ${r.hangs.length}`,
    ...r.hangs.map((c) => `  ${c}`),
    `server bugs:  ${r.serverBugs.length}`,
    ...r.serverBugs.map((c) => `  ${c}`),
    `warnings:     ${r.warnings.length}`,
    ...r.warnings.map((c) => `  ${c}`),
    ...(r.leftConnections !== undefined ? [`leftovers:    ${r.leftConnections} connections, fd growth ${r.fdGrowth}`] : []),
    `max RSS:      ${mb(r.maxRss)} (${inProcess ? 'server and fuzzer' : 'fuzzer; server child: see serverMaxRss'})`,
    ...(r.serverMaxRss !== undefined ? [`server RSS:   max ${mb(r.serverMaxRss)}`] : []),
    `seed:         ${seed}`,
    '',
  ].join('\n'),
);
process.exit(r.crashes.length + r.hangs.length + r.serverBugs.length > 0 ? 1 : 0);
