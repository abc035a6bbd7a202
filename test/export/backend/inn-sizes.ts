/**
 * Measurement (not a test): how INN's overview `:bytes` relates to the exact
 * article size (the bytes ARTICLE delivers after undoing dot-stuffing).
 * `npx tsx test/export/backend/inn-sizes.ts` — starts a private INN and stops it.
 */
import { startInn } from '../../harness/inn.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { silentLogger } from '../../../src/util/log.js';
import { readAll } from './helpers.js';

const bodies: Record<string, string> = {
  plain: 'plain body\r\n',
  dotFirst: '.starts with a dot\r\n',
  dotDotFirst: '..two dots first\r\n',
  dotMiddle: 'first\r\n.dot in the middle\r\nlast\r\n',
  manyDots: '.a\r\n.b\r\n.c\r\n..d\r\n',
  dotOnlyFirst: '.\r\nafter a lone dot\r\n',
  empty: '',
  blankLines: '\r\n\r\nx\r\n\r\n',
  eightBit: '8-bit \xe9\xe8\xff bytes\r\n',
  longLine: 'y'.repeat(3000) + '\r\n',
};

function article(n: number, body: string): Buffer {
  return Buffer.from(
    ['Path: origin!not-for-mail', `From: P <p${n}@example.org>`, 'Newsgroups: t.sizes', `Subject: s${n}`, `Date: ${new Date(Date.UTC(2024, 0, 1, 0, n)).toUTCString()}`, `Message-ID: <sz${n}@inn.test>`, '', body].join('\r\n'),
    'latin1',
  );
}

const names = Object.keys(bodies);
const inn = await startInn({ groups: ['t.sizes'], articles: names.map((k, i) => article(i + 1, bodies[k]!)) });
const src = new NntpSource({ upstream: { url: `nntp://${inn.host}:${inn.port}`, poolSize: 1, pipelineWindow: 16, starttls: false } as never, logger: silentLogger() });
try {
  const over = new Map<number, number>();
  for await (const r of src.overview('t.sizes', 1, names.length)) over.set(r.number, r.bytes);
  for (let i = 1; i <= names.length; i++) {
    const bytes = await readAll(await src.article('t.sizes', i));
    const head = await src.head('t.sizes', i);
    const body = bytes.subarray(head.length);
    const bodyLines = body.length === 0 ? [] : body.toString('latin1').split('\r\n');
    const dotLines = bodyLines.filter((l) => l.startsWith('.')).length;
    console.log(`${names[i - 1]!.padEnd(12)} exact=${bytes.length} over=${over.get(i)} diff=${over.get(i)! - bytes.length} bodyStartsDot=${body[0] === 0x2e} dotLines=${dotLines} head=${head.length}`);
  }
} finally {
  await src.close();
  await inn.stop();
}
