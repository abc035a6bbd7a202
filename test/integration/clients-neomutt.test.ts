/**
 * neomutt, driven non-interactively, against newsfront over INN with durable
 * flags (`state: local`).
 *
 * neomutt needs a terminal, so it runs under `script -qec "…" /dev/null` (a
 * pseudo-terminal from util-linux) with the keys queued by `-e 'push "…"'`:
 * neomutt executes pushed functions before it reads the keyboard, and the last
 * pushed function quits. `-d 2 -l FILE` logs every IMAP command it sends.
 *
 * Checked: it logs in and opens a group; `<display-message>` on article 4
 * fetches it (the piped copy is byte-identical to INN's, LF line ends) and marks
 * it \Seen on the server; `<flag-message>` + `<sync-mailbox>` stores \Flagged;
 * the flags are on the server after neomutt quit, and no other article changed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClients } from '../harness/install-clients.js';
import { crlfToLf } from '../harness/article-bytes.js';
import { CLIENT_STACK, describeRun, PASS, runProgram, serverFlags, storeFlags, USER, type ProgramResult } from '../clients/fixture.js';
import { startStack, type Stack } from '../harness/stack.js';

const GROUPS = ['comp.lang.misc', 'de.test.neomutt', 'alt.qresync'];
const SETUP_TIMEOUT_MS = 20 * 60_000;
/** One batch run takes 1–3 s; well below the test timeout so a hang fails with neomutt's output. */
const NEOMUTT_TIMEOUT_MS = 30_000;

/** Quote for a POSIX shell (script -c runs its command with $SHELL -c). */
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('neomutt in batch mode', () => {
  let fx: Stack;
  let muttrc: string;

  /** Run neomutt on `mailbox` with `keys` pushed; returns the run and its debug log. */
  async function neomutt(mailbox: string, keys: string, name: string, settings: string[] = []): Promise<{ run: ProgramResult; log: string }> {
    const logBase = join(fx.dir, `neomutt-${name}.log`);
    const cmd = [
      'neomutt', '-n', '-F', muttrc, '-d', '2', '-l', logBase,
      '-f', `imap://${USER}@127.0.0.1:${fx.nf.port}/${mailbox}`,
      ...settings.flatMap((e) => ['-e', e]),
      '-e', `push "${keys}"`,
    ].map(sh).join(' ');
    // A prompt nobody answers would hang neomutt: killed after NEOMUTT_TIMEOUT_MS (exit null, SIGKILL).
    const run = await runProgram('script', ['-qec', cmd, '/dev/null'], {
      env: { ...process.env, HOME: fx.dir, TERM: 'xterm', SHELL: '/bin/sh' },
      timeoutMs: NEOMUTT_TIMEOUT_MS,
    });
    // neomutt appends a rotation digit to the log name (neomutt-x.log0).
    const logs = readdirSync(fx.dir).filter((f) => f.startsWith(`neomutt-${name}.log`));
    const log = logs.map((f) => readFileSync(join(fx.dir, f), 'latin1')).join('\n');
    return { run, log };
  }

  beforeAll(async () => {
    await ensureClients(['neomutt', 'bsdutils']);
    fx = await startStack({ ...CLIENT_STACK, corpus: { seed: 63, groups: GROUPS, perGroup: 10 }, state: 'local' });
    muttrc = join(fx.dir, 'muttrc');
    writeFileSync(
      muttrc,
      [
        `set imap_user="${USER}"`,
        `set imap_pass="${PASS}"`,
        // without an existing $folder neomutt first asks "Create ~/Mail?" and eats the pushed keys
        `set folder="imap://${USER}@127.0.0.1:${fx.nf.port}/"`,
        'set ssl_starttls=no',
        'set ssl_force_tls=no',
        'set header_cache=""',
        'set message_cachedir=""',
        'set quit=yes',
        'set delete=yes', // no "Purge deleted messages?" prompt
        'set move=no',
        'set mark_old=no',
        'set wait_key=no',
        'set pipe_decode=no',
        // index position = sequence number = UID here (UIDs are article numbers)
        'set sort=mailbox-order',
        'set mail_check_stats=no',
        '',
      ].join('\n'),
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await fx?.close();
  });

  it('reads article 4 (\\Seen on the server, bytes as INN stores them) and flags article 2', async () => {
    const g = GROUPS[1]!;
    const piped = join(fx.dir, 'article4.txt');
    const keys = `<jump>4<enter><display-message><pipe-message>cat > ${piped}<enter><exit><jump>2<enter><flag-message><sync-mailbox><quit>`;
    const { run, log } = await neomutt(g, keys, 'read');
    expect(run.status, describeRun(run)).toBe(0);
    expect(log, 'neomutt logged in').toMatch(/> a\d+ AUTHENTICATE PLAIN|> a\d+ LOGIN/);
    expect(log).toMatch(/a\d+ SELECT "de\.test\.neomutt"/);
    expect(log).toMatch(/> a\d+ UID FETCH 4 BODY\.PEEK\[\]/);
    const a4 = fx.byGroup.get(g)![3]!;
    const stored = await fx.inn.storedArticle(a4.messageId);
    expect(readFileSync(piped).equals(crlfToLf(stored)), 'piped article 4').toBe(true);
    const flags = await serverFlags(fx.nf.port, g);
    expect(flags.get(4)).toEqual(['\\Seen']);
    expect(flags.get(2)).toEqual(['\\Flagged']);
    for (const [uid, f] of flags) if (uid !== 2 && uid !== 4) expect(f, `UID ${uid}`).toEqual([]);
  });

  it('<sync-mailbox> with no deleted article shows no error', async () => {
    // neomutt sends EXPUNGE after every sync when MYRIGHTS has "t" (it tests the
    // delete right, not "e"); with nothing marked \Deleted that EXPUNGE removes nothing.
    const g = GROUPS[0]!;
    const { run, log } = await neomutt(g, '<jump>3<enter><flag-message><sync-mailbox><quit>', 'sync');
    expect(run.status, describeRun(run)).toBe(0);
    expect((await serverFlags(fx.nf.port, g)).get(3)).toEqual(['\\Flagged']);
    const failed = /IMAP command failed: [^\n]*/.exec(log);
    expect(failed?.[0] ?? 'no failed command', 'neomutt debug log').toBe('no failed command');
  });

  it('browses the hierarchy (LIST "%", "de.%", "de.test.%") and opens a group from the browser', async () => {
    // The browser only offers what LIST returned; the final SELECT proves each level was listed.
    const keys = '<change-folder>?<toggle-mailboxes><search>de<enter><select-entry><search>test<enter><select-entry><search>neomutt<enter><select-entry><quit>';
    const { run, log } = await neomutt(GROUPS[0]!, keys, 'browse');
    expect(run.status, describeRun(run)).toBe(0);
    expect(log).toMatch(/> a\d+ LIST "" "%"/);
    expect(log).toMatch(/LIST "" "de\.%"/);
    expect(log).toMatch(/LIST "" "de\.test\.%"/);
    expect(log).toMatch(/SELECT "de\.test\.neomutt"/);
  });

  describe('with a header cache and imap_qresync', () => {
    const g = GROUPS[2]!;
    const cached = (): string[] => {
      mkdirSync(join(fx.dir, 'hcache'), { recursive: true });
      return ['set imap_qresync=yes', `set header_cache="${join(fx.dir, 'hcache')}/"`];
    };
    const fullHeaderFetch = /> a\d+ FETCH 1:\d+ \(UID FLAGS INTERNALDATE/;

    it('a second session resyncs with CHANGEDSINCE/VANISHED and sees the change made meanwhile', async () => {
      const first = await neomutt(g, '<quit>', 'hc1', cached());
      expect(first.run.status, describeRun(first.run)).toBe(0);
      expect(first.log).toMatch(/ENABLE QRESYNC/);
      expect(first.log).toMatch(fullHeaderFetch);
      await storeFlags(fx.nf.port, g, 6, '\\Answered');
      const piped = join(fx.dir, 'answered.txt');
      // ~Q: replied (\Answered) articles; neomutt knows UID 6 is one only through the resync
      const second = await neomutt(g, `<limit>~Q<enter><first-entry><pipe-message>cat > ${piped}<enter><quit>`, 'hc2', cached());
      expect(second.run.status, describeRun(second.run)).toBe(0);
      expect(second.log).toMatch(/> a\d+ UID FETCH 1:\d+ \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)/);
      expect(second.log).not.toMatch(fullHeaderFetch);
      expect(second.log).not.toMatch(/QRESYNC failed/);
      const a6 = fx.byGroup.get(g)![5]!;
      expect(readFileSync(piped).equals(crlfToLf(await fx.inn.storedArticle(a6.messageId))), 'piped = article 6').toBe(true);
    });

    it('an article deleted and closed stays (no expunge right); the next run recovers', async () => {
      // NeoMutt stores \Deleted, sends CLOSE (answered OK) and drops the article from
      // its cache, as if CLOSE had expunged. newsfront grants no 'e' right (MYRIGHTS
      // lrswt), so per RFC 4314 §4 CLOSE removes nothing: the article stays, marked.
      // NeoMutt's next QRESYNC then disagrees with its cache; it logs "QRESYNC
      // failed. Reopening mailbox." and re-reads flags (a NeoMutt quirk, docs/clients.md).
      const del = await neomutt(g, '<jump>3<enter><delete-message><quit>', 'hc3', cached());
      expect(del.run.status, describeRun(del.run)).toBe(0);
      expect((await serverFlags(fx.nf.port, g)).get(3)).toEqual(['\\Deleted']);
      await storeFlags(fx.nf.port, g, 7, '\\Flagged');
      const again = await neomutt(g, '<quit>', 'hc4', cached());
      expect(again.run.status, describeRun(again.run)).toBe(0);
      expect((await serverFlags(fx.nf.port, g)).get(3)).toEqual(['\\Deleted']);
      expect((await serverFlags(fx.nf.port, g)).get(7)).toEqual(['\\Flagged']);
    });
  });
});
