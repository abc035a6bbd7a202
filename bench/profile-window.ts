/**
 * Development aid (not part of `npm run bench`): what a server's main thread
 * did between two moments, from a `--cpu-prof` profile. The profile's clock
 * is the monotonic one (`process.hrtime`), so moments a bench printed with
 * it (thread-first.ts `--prof`: `marks … selected S threaded T`) place a
 * stage in it.
 *
 *   node dist/bench/profile-window.js PROFILE FROM_US TO_US [BUCKET_MS]
 *
 * Prints the window's sampled and idle ms (idle: the loop waited, e.g. for
 * upstream answers), the busy ms per bucket (when the waiting happened), and
 * the functions with most self and inclusive time. Busy counts wall time
 * while code ran, so on a loaded machine it includes time the thread was
 * not scheduled.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, fromArg, toArg, bucketArg] = process.argv.slice(2);
if (file === undefined || fromArg === undefined || toArg === undefined) {
  process.stderr.write('usage: profile-window PROFILE FROM_US TO_US [BUCKET_MS]\n');
  process.exit(2);
}
const from = Number(fromArg);
const to = Number(toArg);
const bucket = Number(bucketArg ?? 100) * 1000;
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const busy = new Map<number, number>();
let sampled = 0;
let idle = 0;
let t = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]!;
  if (t < from || t > to) continue;
  // a sample stands for the time until the next one
  const dt = p.timeDeltas[i + 1] ?? 0;
  const node = byId.get(p.samples[i]!)!;
  const name = label(node);
  sampled += dt;
  self.set(name, (self.get(name) ?? 0) + dt);
  if (node.callFrame.functionName === '(idle)') idle += dt;
  else busy.set(Math.floor((t - from) / bucket), (busy.get(Math.floor((t - from) / bucket)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let x: number | undefined = node.id; x !== undefined; x = parent.get(x)) {
    const m = label(byId.get(x)!);
    if (seen.has(m)) continue;
    seen.add(m);
    inclusive.set(m, (inclusive.get(m) ?? 0) + dt);
  }
}
const ms = (us: number): string => (us / 1000).toFixed(0);
const buckets = Math.ceil((to - from) / bucket);
process.stdout.write(`window ${ms(to - from)} ms: sampled ${ms(sampled)}, idle ${ms(idle)}\n`);
process.stdout.write(`busy ms per ${ms(bucket)} ms: ${Array.from({ length: buckets }, (_, k) => ms(busy.get(k) ?? 0)).join(' ')}\n`);
for (const [title, m, count] of [['self', self, 25], ['inclusive', inclusive, 40]] as const) {
  process.stdout.write(`-- ${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, count)) process.stdout.write(`${ms(v).padStart(6)} ${k}\n`);
}
