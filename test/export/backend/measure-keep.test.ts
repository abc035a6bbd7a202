import { describe, expect, it } from 'vitest';
import { Measurer, type Measured } from '../../../src/export/backend/measure.js';
import type { ArticleSink } from '../../../src/export/source.js';

const article = Buffer.from('Subject: hi\r\nFrom: a@b\r\n\r\n' + 'body line\r\n'.repeat(300), 'latin1');

/** An upstream that delivers `bytes` in chunks of `size`, reusing one chunk buffer (as a socket reader may). */
const upstream = (bytes: Buffer, size: number) => async (sink: ArticleSink): Promise<void> => {
  sink.begin();
  const scratch = Buffer.alloc(size);
  for (let at = 0; at < bytes.length; at += size) {
    const n = bytes.copy(scratch, 0, at, Math.min(bytes.length, at + size));
    sink.data(scratch.subarray(0, n));
  }
};

async function measured(size: number, keep: number): Promise<Measured> {
  let seen: Measured | undefined;
  const got = await new Measurer().measure('k', upstream(article, size), (m) => (seen = { ...m }), false, keep);
  expect(got.size).toBe(article.length);
  expect(got.article).toBeNull(); // dropped once `done` saw it
  return seen!;
}

describe('Measurer: the article kept for the index', () => {
  for (const size of [1, 7, 100, 4096, article.length]) {
    it(`is the whole article, in a buffer of its own, from chunks of ${size}`, async () => {
      const m = await measured(size, 64 * 1024);
      expect(m.article!.equals(article)).toBe(true);
      // not a slice of a shared pool or of a bigger growth buffer: it pins exactly its bytes
      expect(m.article!.byteOffset).toBe(0);
      expect(m.article!.buffer.byteLength).toBe(article.length);
      expect(m.header!.toString('latin1')).toBe('Subject: hi\r\nFrom: a@b\r\n\r\n');
    });
  }

  it('is not kept when the article is longer than the bound, or with no bound', async () => {
    expect((await measured(100, article.length - 1)).article).toBeNull();
    expect((await measured(100, 0)).article).toBeNull();
    expect((await measured(100, article.length)).article!.equals(article)).toBe(true);
  });
});
