/**
 * Child process of the article-cache crash test (article-cache.test.ts):
 * downloads `cachedArticle(i)` for i = 0, 1, 2, … into an ArticleCache in
 * `argv[2]` without end, printing `done <i>` after each, until it is killed.
 * Long articles come slowly (see `slowly`), so a kill usually lands in the
 * middle of one; small ones are written to the LMDB store in batches, so a
 * kill may land in the middle of a transaction.
 *
 *   node --import tsx test/export/backend/cache-writer-child.ts DIR
 */
import { Readable } from 'node:stream';
import { ArticleCache } from '../../../src/export/backend/article-cache.js';
import { silentLogger } from '../../../src/util/log.js';
import { cachedArticle } from './cache-articles.js';

const dir = process.argv[2]!;
const cache = new ArticleCache({ dir, maxBytes: 1 << 30, logger: silentLogger() });
await cache.init();

/** The article in 4 KB chunks; a long one a millisecond apart (~50 ms in all), so kills land mostly in its middle. */
function slowly(b: Buffer): Readable {
  let at = 0;
  const later = b.length > 65_536 ? (f: () => void) => setTimeout(f, 1) : setImmediate;
  return new Readable({
    read() {
      later(() => {
        const n = Math.min(4096, b.length - at);
        this.push(n > 0 ? b.subarray(at, (at += n)) : null);
      });
    },
  });
}

for (let i = 0; ; i++) {
  const bytes = cachedArticle(i);
  const s = await cache.open(`k${i}`, async () => slowly(bytes));
  for await (const _ of s) void _;
  process.stdout.write(`done ${i}\n`);
}
