/** Deterministic articles by index for the article-cache tests: most small (0.5–6.5 KB), every fifth 200 KB (a file). */
export function cachedArticle(i: number): Buffer {
  const size = i % 5 === 4 ? 200_000 : 500 + ((i * 997) % 6000);
  const head = Buffer.from(`Message-ID: <${i}@cache.test>\r\nSubject: article ${i}\r\n\r\n`, 'latin1');
  const body = Buffer.alloc(size - head.length);
  for (let k = 0; k < body.length; k++) body[k] = k % 78 === 77 ? 10 : 33 + ((i * 7 + k) % 90);
  return Buffer.concat([head, body]);
}
