/**
 * Micro benchmark of the SORT and THREAD algorithms (src/search/) on 100,000
 * synthetic records: no server, no I/O, one process.
 *
 *   node --import tsx bench/sort-thread.ts [count] [rounds]
 *
 * Per operation: "cold" builds a fresh MessageKeys (keys derived from the raw
 * header values: base subjects, parsed Message-IDs, ranks) and runs the command;
 * "keys kept" runs it on keys a previous, different command left (ranks and
 * parsed ids reused, the order itself computed); "repeat" runs the same command
 * again (kept order or kept threads); "+100 arrived" runs it again after 100
 * records were appended to those keys (SORT: kept ranks and orders extended;
 * THREAD: threads built again). Medians of the rounds, in milliseconds:
 * wall-clock / CPU time of the process (on a shared machine the CPU figure is
 * the steadier one). Run it as the server runs (no Node flags,
 * see package.json `start`), after `npm run build`:
 *
 *   node dist/bench/sort-thread.js
 */
import { MessageKeys, sortOrder, threadMessages, type MessageRecord, type SortCriterion } from '../src/search/index.js';
import { prng } from './prng.js';

/** Netnews-shaped records: ~25% thread starters, replies to recent articles, References capped at 10 ids. */
function records(count: number, seed = 7): MessageRecord[] {
  const rnd = prng(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const out: MessageRecord[] = [];
  const subjects: string[] = [];
  const refsOf: string[] = [];
  let t = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    t += pick(120_000);
    const id = pick(1000) < 5 ? '' : `<${(i * 2654435761) >>> 0}.${i}@news${i % 7}.example.org>`;
    let subject: string;
    let references = '';
    let inReplyTo = '';
    if (i === 0 || rnd() < 0.25) {
      subject = rnd() < 0.05 ? `=?utf-8?q?Caf=C3=A9_topic_${i}?=` : `${rnd() < 0.2 ? '[list] ' : ''}Topic ${i} about things`;
      refsOf[i] = '';
    } else {
      const parent = Math.max(0, i - 1 - pick(2000));
      subject = rnd() < 0.1 ? `Re: [list] Re: ${subjects[parent]}` : `Re: ${subjects[parent]}`;
      const ids = (refsOf[parent]! + ' ' + out[parent]!.messageId).trim().split(' ').filter((s) => s !== '');
      references = ids.slice(-10).join(' ');
      if (rnd() < 0.1) {
        inReplyTo = out[parent]!.messageId;
        if (rnd() < 0.5) references = '';
      }
      refsOf[i] = references;
    }
    subjects[i] = subject.replace(/^(Re: (\[list\] )?(Re: )?)+/, '');
    const user = pick(5000);
    out.push({
      uid: i + 1,
      date: rnd() < 0.01 ? NaN : t - pick(3_600_000),
      arrival: t,
      size: 500 + pick(20_000),
      subject,
      from: rnd() < 0.5 ? `User ${user} <user${user}@host${user % 50}.example>` : `user${user}@host${user % 50}.example (User ${user})`,
      to: '',
      cc: '',
      messageId: id,
      references,
      inReplyTo,
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall-clock and CPU milliseconds of one call. */
function time(f: () => unknown): [number, number] {
  const c = process.cpuUsage();
  const t = performance.now();
  f();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c);
  return [wall, (cpu.user + cpu.system) / 1000];
}

function cell(samples: [number, number][], width: number): string {
  const text = `${median(samples.map((s) => s[0])).toFixed(1)} / ${median(samples.map((s) => s[1])).toFixed(1)}`;
  return text.padStart(width);
}

const count = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);
const all = records(count + 100);
const data = all.slice(0, count);
const arrived = all.slice(count);

interface Row {
  name: string;
  run: (keys: MessageKeys) => unknown;
  /** A different command that leaves the keys this one needs (ranks, parsed ids). */
  prepare: (keys: MessageKeys) => unknown;
}
const sort = (criteria: SortCriterion[]) => (keys: MessageKeys) => sortOrder(keys, criteria);
const rows: Row[] = [
  { name: 'SORT (DATE)', run: sort([{ key: 'DATE' }]), prepare: sort([{ key: 'DATE', reverse: true }]) },
  { name: 'SORT (SUBJECT)', run: sort([{ key: 'SUBJECT' }]), prepare: sort([{ key: 'SUBJECT', reverse: true }]) },
  { name: 'SORT (FROM DATE)', run: sort([{ key: 'FROM' }, { key: 'DATE' }]), prepare: (k) => (sort([{ key: 'FROM' }])(k), sort([{ key: 'DATE' }])(k)) },
  { name: 'THREAD REFERENCES', run: (k) => threadMessages(k, 'REFERENCES'), prepare: (k) => (threadMessages(k, 'REFS'), sort([{ key: 'SUBJECT' }])(k)) },
  { name: 'THREAD REFS', run: (k) => threadMessages(k, 'REFS'), prepare: (k) => threadMessages(k, 'REFERENCES') },
  { name: 'THREAD ORDEREDSUBJECT', run: (k) => threadMessages(k, 'ORDEREDSUBJECT'), prepare: (k) => (sort([{ key: 'SUBJECT' }])(k), sort([{ key: 'DATE' }])(k)) },
];

// warm up the JIT on a small set, arrivals included
for (const row of rows) {
  for (let w = 0; w < 3; w++) {
    const keys = new MessageKeys(data.slice(0, 5000));
    row.run(keys);
    keys.append(data.slice(5000, 5100));
    row.run(keys);
  }
}

process.stdout.write(`${count} records, median of ${rounds} rounds, ms wall / cpu\n`);
process.stdout.write(`${'operation'.padEnd(24)}${'cold'.padStart(16)}${'keys kept'.padStart(16)}${'repeat'.padStart(16)}${'+100 arrived'.padStart(16)}\n`);
for (const row of rows) {
  const cold: [number, number][] = [];
  const kept: [number, number][] = [];
  const again: [number, number][] = [];
  const after: [number, number][] = [];
  for (let r = 0; r < rounds; r++) {
    cold.push(time(() => row.run(new MessageKeys(data))));
    const keys = new MessageKeys(data);
    row.prepare(keys);
    kept.push(time(() => row.run(keys)));
    again.push(time(() => row.run(keys)));
    keys.append(arrived);
    after.push(time(() => row.run(keys)));
  }
  process.stdout.write(`${row.name.padEnd(24)}${cell(cold, 16)}${cell(kept, 16)}${cell(again, 16)}${cell(after, 16)}\n`);
}
