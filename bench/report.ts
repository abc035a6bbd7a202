/**
 * Results of a benchmark run: rows, medians, the printed table and the JSON file.
 *
 * A row is one operation with our figure, the upstream's figure for the same
 * work measured in the same run (when there is one), and the best other
 * server's figure from /work/shared/TARGETS.md (a reference from another run,
 * printed for orientation only). The ratio is always "our cost ÷ upstream cost"
 * (lower is better; < 1 means faster than asking the upstream), so for rates it
 * is upstream rate ÷ our rate.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How a figure reads: a duration (lower is better), a rate (higher is better) or a size. */
export type Unit = 's' | 'ms' | 'articles/s' | 'MB/s' | 'cmd/s' | 'MB' | 'KB';

const HIGHER_IS_BETTER: ReadonlySet<Unit> = new Set<Unit>(['articles/s', 'MB/s', 'cmd/s']);

export interface Row {
  section: string;
  operation: string;
  unit: Unit;
  /** Our figure, or an explanation why there is none ("n/a: …", "error: …"). */
  value: number | string;
  /** Same work done by the upstream (NNTP) in this run, same unit. */
  upstream?: number;
  /** What the upstream figure measures, when not obvious. */
  upstreamNote?: string;
  /** Best other server from TARGETS.md (another run; orientation only). */
  target?: number;
  /** Rounds the median was taken over, and every round's value. */
  rounds?: number[];
  /** Extra facts (hit counts, bytes, …). */
  note?: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** our cost ÷ upstream cost (lower is better), or undefined when either is missing. */
export function ratio(row: Row): number | undefined {
  if (typeof row.value !== 'number' || row.upstream === undefined || row.upstream <= 0 || row.value <= 0) return undefined;
  return HIGHER_IS_BETTER.has(row.unit) ? row.upstream / row.value : row.value / row.upstream;
}

export function fmt(v: number, unit: Unit): string {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  const n = v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return `${n} ${unit}`;
}

function cell(v: number | string | undefined, unit: Unit): string {
  if (v === undefined) return '';
  return typeof v === 'number' ? fmt(v, unit) : v;
}

/** The table as text: operation | figure | upstream | ratio | best other (TARGETS.md) | notes. */
export function renderTable(rows: readonly Row[]): string {
  const head = ['operation', 'figure', 'upstream (same run)', 'ratio', 'best other', 'notes'];
  const body: string[][] = [];
  let section = '';
  const sectionLines = new Map<number, string>();
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      sectionLines.set(body.length, section);
    }
    const q = ratio(r);
    const notes = [r.upstreamNote ? `upstream: ${r.upstreamNote}` : '', r.note ?? '', r.rounds && r.rounds.length > 1 ? `${r.rounds.length} rounds` : '']
      .filter(Boolean)
      .join('; ');
    body.push([
      r.operation,
      cell(r.value, r.unit),
      r.upstream !== undefined ? cell(r.upstream, r.unit) : '',
      q !== undefined ? `${q >= 10 ? q.toFixed(0) : q >= 0.1 ? q.toFixed(2) : q.toPrecision(2)}×` : '',
      cell(r.target, r.unit),
      notes,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === head.length - 1 ? 0 : b[i]!.length))));
  const line = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('-|-')];
  body.forEach((b, i) => {
    const s = sectionLines.get(i);
    if (s) out.push(`== ${s}`);
    out.push(line(b));
  });
  out.push('');
  out.push('ratio = our cost ÷ the upstream\'s cost for the same work in this run (time ÷ time; for rates, inverse); < 1 is faster than the upstream.');
  out.push('best other = best of Dovecot 2.3 / public-inbox 1.9 from /work/shared/TARGETS.md (another run, 100k corpus; orientation only).');
  return out.join('\n');
}

export interface RunHeader {
  date: string;
  node: string;
  host: { cpus: number; memMB: number };
  quick: boolean;
  corpus: { articles: number; batchBytes: number; largeArticleBytes?: number; group: string };
  [extra: string]: unknown;
}

/** Write `.bench/results-<timestamp>.json`; returns its path. */
export async function writeJson(dir: string, header: RunHeader, rows: readonly Row[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = header.date.replace(/[:.]/g, '-');
  const path = join(dir, `results-${stamp}.json`);
  const data = { ...header, rows: rows.map((r) => ({ ...r, ratio: ratio(r) })) };
  await writeFile(path, JSON.stringify(data, null, 2) + '\n');
  return path;
}
