/**
 * Child process for the crash test: indexes batches forever through the
 * worker writer and prints "committed <n>" after each batch commits, until the
 * parent kills it with SIGKILL.
 *   node --import tsx test/search/crash-child.ts <db path>
 */
import { SearchIndex } from '../../src/search/index.js';
import { headerEnd } from '../../src/mime/index.js';
import { buildArticle } from './articles.js';

const BATCH = 200;
const index = await SearchIndex.open(process.argv[2]!);
for (let b = 0; ; b++) {
  const arts = Array.from({ length: BATCH }, (_, i) => {
    const n = b * BATCH + i;
    return buildArticle({
      messageId: `<c${n}@crash>`,
      subjects: [`batch ${b} item ${i} ${n % 7 === 0 ? 'septimus' : 'plain'}`],
      subjectStyle: 'raw',
      subjectCharset: 'utf-8',
      fromName: 'Crash Test',
      parts: [{ text: `body of ${n} ${'lorem ipsum '.repeat(40)} ${n % 5 === 0 ? 'quintus' : ''}`, charset: 'utf-8', cte: 'quoted-printable' }],
      nested: false,
    });
  });
  const loc = (i: number) => ({ mailbox: 'crash.test', uidValidity: 1, uid: b * BATCH + i + 1 });
  await index.addHeaders(arts.map((a, i) => ({ ...loc(i), header: a.subarray(0, headerEnd(a)), internalDate: 0, size: a.length })));
  process.stdout.write(`headers ${b}\n`);
  await index.addBodies(arts.map((a, i) => ({ ...loc(i), article: a })));
  process.stdout.write(`committed ${b}\n`);
}
