/**
 * The IMAP rows of the benchmark (one session against newsfront over this
 * run's INN), in an order that keeps "cold" honest: nothing fetches article
 * bodies before the rows that time the first fetch of them.
 *
 *   SELECT (first) → [index: every header indexed] → SELECT (warm) →
 *   FETCH FLAGS → 1,000 BODY.PEEK[] (cold, again) → partial of the 40 MB
 *   part (first, again) → whole large article → FETCH ENVELOPE… (cold, warm)
 *   → [index: restart, every body crawled] → SEARCH SUBJECT, BODY (first,
 *   again), FROM, BODY common, TEXT → SORT, THREAD (first, again) →
 *   FETCH BODYSTRUCTURE (first, warm) → partial of the 40 MB part, cached
 *   on disk (first since the restart, again) → STORE 1:50000
 *
 * The bracketed steps are index-rows.ts (`input.index`): the SEARCH, SORT
 * and THREAD rows run on the restarted server over the complete index, and
 * their notes say so; without `input.index` they run where they are and
 * measure whatever the server has indexed by then.
 *
 * Each row is measured on its own; a failing row becomes "error: …" and the
 * next row still runs (with a fresh session if the connection died). Response
 * counts are checked against EXISTS so a fast wrong answer is visible in the
 * row's note rather than reported as speed.
 */
import type { CommandResult, RawImap } from './imap-client.js';
import { median, type Row, type Unit } from './report.js';
import { casedVariant, openSession, quote, rounds, searchHits, type OpenSession } from './session.js';
import type { IndexBuild } from './index-rows.js';

export interface ImapBenchInput {
  port: number;
  mailbox: string;
  /** Articles in the group (the large one included). */
  count: number;
  large?: { uid: number; bytes: number };
  subjectWord: { word: string; hits: number };
  bodyWord: { word: string; hits: number };
  /** Issue 11 rows (absent in an old corpus sidecar: those rows are skipped). */
  commonBodyWord?: { word: string; hits: number };
  fromWord?: { word: string; hits: number };
  /** Rounds for the cheap rows (3 in a normal run). */
  rounds: number;
  /** Upstream figures of the same run, seconds. */
  upstream: {
    connectGroup?: number;
    over?: number;
    overHeads?: number;
    articlesAll?: number;
    articles1000?: number;
    largeArticle?: number;
  };
  log: (msg: string) => void;
  /** The index build steps (index-rows.ts); the IMAP port changes with the restart. */
  index?: IndexBuild;
}

const SECTION = 'IMAP (newsfront over this INN, one session)';
/** Repeated SEARCH rows ask in another letter case each round, so they measure the index, not the answer cache. */
const VARIED = '; needle case varied per round';

/** 1,000 consecutive articles that do not include the large one. */
function thousand(count: number, largeUid?: number): [number, number] {
  const lo = 1;
  const hi = Math.min(count, 1000);
  return largeUid !== undefined && largeUid <= hi ? [largeUid + 1, Math.min(count, largeUid + 1000)] : [lo, hi];
}

export async function imapRows(input: ImapBenchInput, add: (row: Row) => void): Promise<void> {
  const { mailbox, count, log } = input;
  let port = input.port;
  const up = input.upstream;
  let session: OpenSession | undefined;
  const client = async (): Promise<RawImap> => {
    if (!session) session = await openSession(port, mailbox);
    return session.client;
  };
  const row = async (
    operation: string,
    unit: Unit,
    fn: () => Promise<Omit<Row, 'section' | 'operation' | 'unit'>>,
  ): Promise<void> => {
    log(`imap: ${operation}`);
    try {
      add({ section: SECTION, operation, unit, ...(await fn()) });
    } catch (err) {
      add({ section: SECTION, operation, unit, value: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
      session?.client.close();
      session = undefined;
    }
  };
  const fetchCheck = (responses: number, expected: number): string | undefined =>
    responses === expected ? undefined : `ONLY ${responses} of ${expected} FETCH responses`;

  let firstSelect = NaN;
  // --- SELECT ---
  await row('connect + LOGIN + SELECT, first open', 's', async () => {
    const s = await openSession(port, mailbox);
    session = s;
    firstSelect = s.seconds;
    return { value: s.seconds, ...(up.connectGroup ? { upstream: up.connectGroup, upstreamNote: 'connect + GROUP' } : {}), target: 0.015, note: `EXISTS ${s.exists}` };
  });
  if (input.index && Number.isFinite(firstSelect)) await input.index.headers(firstSelect);
  await row('connect + LOGIN + SELECT, warm', 's', async () => {
    const xs = await rounds(input.rounds, async () => {
      const s = await openSession(port, mailbox);
      s.client.close();
      return s.seconds;
    });
    return { value: median(xs), rounds: xs, ...(up.connectGroup ? { upstream: up.connectGroup, upstreamNote: 'connect + GROUP' } : {}), target: 0.015 };
  });

  // --- listings ---
  await row('UID FETCH 1:* (UID FLAGS)', 's', async () => {
    const c = await client();
    let check: string | undefined;
    const xs = await rounds(input.rounds, async () => {
      const r = await c.ok('UID FETCH 1:* (UID FLAGS)');
      check = fetchCheck(r.responses, count);
      return r.seconds;
    });
    return { value: median(xs), rounds: xs, ...(up.over ? { upstream: up.over, upstreamNote: 'OVER' } : {}), target: 0.047, ...(check ? { note: check } : {}) };
  });

  // --- bodies ---
  const [lo, hi] = thousand(count, input.large?.uid);
  const bodyCmd = `UID FETCH ${lo}:${hi} (BODY.PEEK[])`;
  const upstream1000 = up.articles1000 ? { upstream: up.articles1000, upstreamNote: 'ARTICLE ×1000 pipelined' } : {};
  await row(`1,000 consecutive BODY.PEEK[] in one command, first time`, 's', async () => {
    const r = await (await client()).ok(bodyCmd);
    const check = fetchCheck(r.responses, hi - lo + 1);
    return { value: r.seconds, ...upstream1000, target: 0.1, note: check ?? `${(r.bytes / 1e6).toFixed(1)} MB` };
  });
  await row(`1,000 consecutive BODY.PEEK[] in one command, again`, 's', async () => {
    const c = await client();
    const xs = await rounds(input.rounds, async () => (await c.ok(bodyCmd)).seconds);
    return { value: median(xs), rounds: xs, ...upstream1000, target: 0.011 };
  });

  if (input.large) {
    const L = input.large;
    const upL = up.largeArticle ? { upstream: up.largeArticle * 1000, upstreamNote: 'ARTICLE of the whole large article' } : {};
    const partial = `UID FETCH ${L.uid} (BODY.PEEK[2]<0.1024>)`;
    await row('BODY.PEEK[2]<0.1024> of the large attachment, first', 'ms', async () => {
      const r = await (await client()).ok(partial);
      return { value: r.seconds * 1000, ...upL, target: 0.9, note: `${r.bytes} bytes` };
    });
    await row('BODY.PEEK[2]<0.1024> of the large attachment, again', 'ms', async () => {
      const c = await client();
      const xs = await rounds(input.rounds, async () => (await c.ok(partial)).seconds * 1000, (ms) => ms / 1000);
      return { value: median(xs), rounds: xs, ...upL, target: 0.5 };
    });
    await row('BODY.PEEK[] of the whole large article', 's', async () => {
      const c = await client();
      let bytes = 0;
      const xs = await rounds(input.rounds, async () => {
        const r = await c.ok(`UID FETCH ${L.uid} (BODY.PEEK[])`);
        bytes = r.bytes;
        return r.seconds;
      });
      return {
        value: median(xs),
        rounds: xs,
        ...(up.largeArticle ? { upstream: up.largeArticle, upstreamNote: 'ARTICLE' } : {}),
        target: 0.068,
        note: `${(bytes / 1e6).toFixed(1)} MB`,
      };
    });
  }

  // --- envelope listing ---
  const envCmd = 'UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)';
  const upEnv = up.overHeads ? { upstream: up.overHeads, upstreamNote: 'OVER + HEAD ×all, 1000 in flight' } : {};
  await row('UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE), cold', 's', async () => {
    const r = await (await client()).ok(envCmd);
    const check = fetchCheck(r.responses, count);
    return { value: r.seconds, ...upEnv, target: 0.85, note: check ?? `${(r.bytes / 1e6).toFixed(1)} MB` };
  });
  await row('UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE), warm', 's', async () => {
    const c = await client();
    const xs = await rounds(input.rounds, async () => (await c.ok(envCmd)).seconds);
    return { value: median(xs), rounds: xs, ...upEnv, target: 0.85 };
  });

  // --- search: over the complete index when `input.index` builds it ---
  let built = '';
  if (input.index) {
    session?.client.close();
    session = undefined;
    const r = await input.index.bodies();
    port = r.port;
    built = `; ${r.note}`;
  }
  const sw = input.subjectWord;
  await row(`UID SEARCH SUBJECT ${sw.word}`, 's', async () => {
    const c = await client();
    let hits = 0;
    const xs = await rounds(input.rounds, async (i) => {
      const r = await c.ok(`UID SEARCH SUBJECT ${quote(casedVariant(sw.word, i + 1))}`, { keep: true });
      hits = searchHits(r);
      return r.seconds;
    });
    return { value: median(xs), rounds: xs, ...(up.over ? { upstream: up.over, upstreamNote: 'OVER' } : {}), target: 0.015, note: `${hits} hits, corpus says ${sw.hits}${VARIED}${built}` };
  });
  const bw = input.bodyWord;
  const upAll = up.articlesAll ? { upstream: up.articlesAll, upstreamNote: 'ARTICLE ×all pipelined' } : {};
  let bodyHits = 0;
  await row(`UID SEARCH BODY ${bw.word}, first`, 's', async () => {
    const r = await (await client()).ok(`UID SEARCH BODY ${quote(bw.word)}`, { keep: true, timeoutMs: 1_200_000 });
    bodyHits = searchHits(r);
    return { value: r.seconds, ...upAll, target: 0.013, note: `${bodyHits} hits, corpus ≥ ${bw.hits}${built}` };
  });
  await row(`UID SEARCH BODY ${bw.word}, again`, 's', async () => {
    const c = await client();
    const xs = await rounds(input.rounds, async (i) => {
      const r = await c.ok(`UID SEARCH BODY ${quote(casedVariant(bw.word, i + 1))}`, { keep: true, timeoutMs: 1_200_000 });
      bodyHits = searchHits(r);
      return r.seconds;
    });
    return { value: median(xs), rounds: xs, ...upAll, target: 0.013, note: `${bodyHits} hits${VARIED}${built}` };
  });

  // --- index rows (issue 11): FROM, a common BODY word, TEXT, SORT, THREAD ---
  /** `cmd` run input.rounds times; a SEARCH's quoted needle in another letter case each round (casedVariant). */
  const warm = async (cmd: string, target: number, note: (r: CommandResult) => string, timeoutMs = 1_200_000): Promise<Omit<Row, 'section' | 'operation' | 'unit'>> => {
    const c = await client();
    let last: CommandResult | undefined;
    const xs = await rounds(input.rounds, async (i) => {
      last = await c.ok(cmd.replace(/"([^"]+)"/, (_, w: string) => `"${casedVariant(w, i + 1)}"`), { keep: true, timeoutMs });
      return last.seconds;
    });
    return { value: median(xs), rounds: xs, target, note: note(last!) };
  };
  const hitsNote = (expect?: number) => (r: CommandResult): string => `${searchHits(r)} hits${expect !== undefined ? `, corpus ≥ ${expect}` : ''}${VARIED}${built}`;
  if (input.fromWord) {
    const fw = input.fromWord;
    await row(`UID SEARCH FROM ${fw.word}`, 's', () => warm(`UID SEARCH FROM ${quote(fw.word)}`, 0.022, hitsNote(fw.hits)));
  }
  if (input.commonBodyWord) {
    const cw = input.commonBodyWord;
    await row(`UID SEARCH BODY ${cw.word} (common: ~40% of articles)`, 's', () => warm(`UID SEARCH BODY ${quote(cw.word)}`, 0.1, hitsNote(cw.hits)));
  }
  await row(`UID SEARCH TEXT ${bw.word}`, 's', () => warm(`UID SEARCH TEXT ${quote(bw.word)}`, 0.019, hitsNote(bw.hits)));
  const sortedNote = (r: CommandResult): string => `${r.bytes} bytes answered${built}`;
  for (const [cmd, target] of [['UID SORT (DATE) UTF-8 ALL', 0.08], ['UID SORT (SUBJECT) UTF-8 ALL', 0.05], ['UID THREAD REFERENCES UTF-8 ALL', 0.26]] as const) {
    await row(`${cmd}, first`, 's', async () => {
      const r = await (await client()).ok(cmd, { keep: true, timeoutMs: 1_200_000 });
      return { value: r.seconds, target, note: sortedNote(r) };
    });
    await row(`${cmd}, again`, 's', () => warm(cmd, target, sortedNote));
  }

  // --- structure ---
  const bsCmd = 'UID FETCH 1:* (BODYSTRUCTURE)';
  await row('UID FETCH 1:* (BODYSTRUCTURE), first', 's', async () => {
    const r = await (await client()).ok(bsCmd, { timeoutMs: 1_200_000 });
    const check = fetchCheck(r.responses, count);
    return { value: r.seconds, ...upAll, target: 0.13, ...(check ? { note: check } : {}) };
  });
  await row('UID FETCH 1:* (BODYSTRUCTURE), warm', 's', async () => {
    const c = await client();
    let check: string | undefined;
    const xs = await rounds(input.rounds, async () => {
      const r = await c.ok(bsCmd);
      check = fetchCheck(r.responses, count);
      return r.seconds;
    });
    return { value: median(xs), rounds: xs, ...upAll, target: 0.13, ...(check ? { note: check } : {}) };
  });

  // --- the large article's part once it is cached (the issue's row: Dovecot reads its local file) ---
  // The rows above read it from INN: the first waits for INN's first bytes, the
  // again rounds run while the rest of its 57 MB still arrives. Here the server
  // restarted for the index build since, so the article is in the cache on disk.
  if (input.large) {
    const partial = `UID FETCH ${input.large.uid} (BODY.PEEK[2]<0.1024>)`;
    await row('BODY.PEEK[2]<0.1024> of the large attachment, cached on disk, first since the restart', 'ms', async () => {
      const r = await (await client()).ok(partial);
      return { value: r.seconds * 1000, target: 1.2, note: `${r.bytes} bytes${built}` };
    });
    await row('BODY.PEEK[2]<0.1024> of the large attachment, cached on disk, again', 'ms', async () => {
      const c = await client();
      const xs = await rounds(input.rounds, async () => (await c.ok(partial)).seconds * 1000, (ms) => ms / 1000);
      return { value: median(xs), rounds: xs, target: 0.5 };
    });
  }

  await storeRow({ ...input, port }, 'session flags', add, log);
  session?.client.close();
}

/** `UID STORE 1:50000 +FLAGS.SILENT (\Seen)` in a fresh session per round; `mode` names the flag store. */
export async function storeRow(input: Pick<ImapBenchInput, 'port' | 'mailbox' | 'count' | 'rounds'>, mode: string, add: (row: Row) => void, log: (m: string) => void): Promise<void> {
  const n = Math.min(50_000, Math.floor(input.count / 2));
  const operation = `UID STORE 1:${n} +FLAGS.SILENT (\\Seen), ${mode}`;
  log(`imap: ${operation}`);
  try {
    const xs = await rounds(input.rounds, async (i) => {
      const s = await openSession(input.port, input.mailbox);
      try {
        // A different flag per round, so no round finds the work already done (local mode persists).
        const flag = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Bench5'][i % 5]!;
        return (await s.client.ok(`UID STORE 1:${n} +FLAGS.SILENT (${flag})`)).seconds;
      } finally {
        s.client.close();
      }
    });
    add({ section: SECTION, operation, unit: 's', value: median(xs), rounds: xs, target: 0.041, note: 'rounds 2–3 use \\Flagged, \\Answered' });
  } catch (err) {
    add({ section: SECTION, operation, unit: 's', value: `n/a: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
  }
}
