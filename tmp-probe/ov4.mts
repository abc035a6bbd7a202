import { overviewRow } from '../src/search/doc-row.js';
const N = 50000;
const recs = Array.from({ length: N }, (_, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, key: `<k${i}@x>`, internalDate: 0, size: 1000,
  overview: { subject: `Re: topic number ${i % 500} about the things and stuff`, from: `User ${i % 300} <user${i % 300}@host${i % 50}.example>`, date: 'Mon, 01 Jan 2024 10:00:00 +0000', messageId: `<k${i}@x>`, references: `<a${i}@x.example.org> <b${i}@y.example.org>` } }));
for (let r = 0; r < 3; r++) { const t = performance.now(); for (const x of recs) overviewRow(x.overview, x); console.log('overviewRow', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs'); }
