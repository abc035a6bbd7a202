import { NntpProbe } from '../test/harness/nntp-probe.js';
const p = await NntpProbe.connect('127.0.0.1', 37879);
await p.command('GROUP bench.big');
for (const cmd of ['HDR In-Reply-To 1-100001', 'XHDR In-Reply-To 1-100001', 'HDR References 1-100001']) {
  const t = performance.now();
  const r = await p.command(cmd, [221, 225]);
  console.log(cmd, r.code, (r.data?.length ?? 0), 'bytes', (performance.now() - t).toFixed(0), 'ms');
}
await p.close();
