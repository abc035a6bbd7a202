import { openDb } from '../src/search/db.js';
import { IndexWriter } from '../src/search/writer.js';
const N = 50000;
const recs = Array.from({ length: N }, (_, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, key: `<k${i}.abcdef@news${i % 7}.example.org>`, internalDate: 0, size: 1000,
  overview: { subject: `Re: topic number ${i % 500} about the things and stuff`, from: `User ${i % 300} <user${i % 300}@host${i % 50}.example>`, date: 'Mon, 01 Jan 2024 10:00:00 +0000', messageId: `<k${i}.abcdef@news${i % 7}.example.org>`, references: `<a${i}@x.example.org> <b${i}@y.example.org>` } }));
for (const variant of ['full', 'nofts']) {
  const db = openDb(':memory:');
  if (variant === 'nofts') { db.exec('DROP TABLE headers_fts'); db.exec('DROP TABLE alltext_fts'); db.exec("CREATE TABLE headers_fts (rowid INTEGER, subject, hfrom, hto, hcc, headers_fts)"); db.exec("CREATE TABLE alltext_fts (rowid INTEGER, alltext, alltext_fts)"); }
  const w = new IndexWriter(db);
  const t = performance.now();
  for (let i = 0; i < N; i += 5000) w.addOverview(recs.slice(i, i + 5000));
  console.log(variant, ((performance.now() - t) * 1000 / N).toFixed(1), 'µs/record');
  db.close();
}
