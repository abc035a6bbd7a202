import { SearchIndex } from '../src/search/index.js';
import { overviewRow } from '../src/search/doc-row.js';
const N = 20000;
const recs = Array.from({ length: N }, (_, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, key: `<k${i}@x.example>`, internalDate: 0, size: 1000,
  overview: { subject: `Re: topic number ${i % 500} about the =?utf-8?q?caf=C3=A9?= things`, from: `User ${i % 300} <user${i % 300}@host.example>`, date: 'Mon, 01 Jan 2024 10:00:00 +0000', messageId: `<k${i}@x.example>`, references: `<a${i}@x> <b${i}@y>` } }));
let t = performance.now();
for (const r of recs) overviewRow(r.overview, r);
console.log('overviewRow', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs/record');
const index = await SearchIndex.open(':memory:', { writer: 'inline' });
t = performance.now();
for (let i = 0; i < N; i += 5000) await index.addOverview(recs.slice(i, i + 5000));
console.log('addOverview', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs/record');
await index.close();
