/**
 * Development aid (not part of `npm run bench`): the MIME structure work of a
 * BODYSTRUCTURE listing without IMAP or INN, on the generated corpus: parse,
 * the stored forms (msgpack as the metadata store writes it, JSON), and the
 * rendering; and the parse of one large base64 attachment in 64 KB chunks.
 *
 *   npx tsx bench/structure-micro.ts [articles=20000] [attachmentMiB=40]
 */
import { Packr } from 'msgpackr';
import { iterateCorpus, BENCH_CORPUS } from '../test/corpus/generate.js';
import { parseStructure, StructureParser, serializeStructure, deserializeStructure, type MimePart } from '../src/mime/index.js';
import { renderBodyStructure } from '../src/imap/render/bodystructure.js';
import type { Chunk } from '../src/imap/wire/writer.js';

const n = Number(process.argv[2] ?? 20000);
const mib = Number(process.argv[3] ?? 40);
const arts: Buffer[] = [];
for (const a of iterateCorpus({ ...BENCH_CORPUS, perGroup: n, largeAttachmentBytes: undefined } as never)) {
  if (a.bytes.length < 1_000_000) arts.push(a.bytes);
  if (arts.length >= n) break;
}
const time = (label: string, fn: () => void, reps = 3): void => {
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    xs.push((d.user + d.system) / 1000);
  }
  xs.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} ${xs[Math.floor(reps / 2)]!.toFixed(1)} ms cpu (${((xs[Math.floor(reps / 2)]! * 1000) / arts.length).toFixed(2)} µs/article)`);
};
let roots: MimePart[] = [];
time('parseStructure', () => (roots = arts.map((a) => parseStructure(a))));
const packr = new Packr({ useRecords: false } as never);
let packed: Buffer[] = [];
time('msgpack pack', () => (packed = roots.map((r) => packr.pack(r))));
time('msgpack unpack', () => packed.forEach((b) => packr.unpack(b)));
console.log('msgpack bytes/article', (packed.reduce((s, b) => s + b.length, 0) / packed.length).toFixed(0));
let json: string[] = [];
time('JSON serialize', () => (json = roots.map((r) => serializeStructure(r))));
time('JSON deserialize', () => json.forEach((s) => deserializeStructure(s)));
time('render BODYSTRUCTURE (chunks + concat)', () =>
  roots.forEach((r) => {
    const out: Chunk[] = [];
    renderBodyStructure(r, out, true, false);
    Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
  }),
);

if (mib > 0) {
  const data = Buffer.alloc(mib * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
  const big = Buffer.from(
    'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="=_x"\r\n\r\n--=_x\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
      `--=_x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--=_x--\r\n`,
    'latin1',
  );
  const xs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.cpuUsage();
    const p = new StructureParser();
    for (let i = 0; i < big.length; i += 65536) p.push(big.subarray(i, i + 65536));
    p.end();
    const d = process.cpuUsage(t);
    xs.push((d.user + d.system) / 1000);
  }
  xs.sort((a, b) => a - b);
  console.log(`parse ${(big.length / 1e6).toFixed(1)} MB article, 64 KB chunks: cpu median ${xs[2]!.toFixed(1)} ms (min ${xs[0]!.toFixed(1)})`);
}
