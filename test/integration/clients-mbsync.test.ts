/**
 * mbsync (isync) against newsfront over INN with durable flags (`state: local`):
 * a read-mostly mirror of three groups into a local Maildir.
 *
 * The channel is configured as newsfront needs it (see docs/clients.md):
 *   Sync Pull PushFlags   — articles and flags come down, only flags go up
 *   Create Near           — make local folders, never CREATE on the server
 *   Remove None / Expunge None — never DELETE or EXPUNGE on the server
 *   Patterns a/b/c        — mbsync names mailboxes with "/" whatever the server's
 *                           delimiter; `Flatten .` keeps one Maildir per group
 *
 * Checked: every article arrives byte-identical to INN's copy (mbsync stores LF
 * line ends and adds one `X-TUID:` header line); a flag set in the Maildir
 * reaches the server and one set on the server reaches the Maildir; a second
 * run after new articles were posted to INN fetches only those.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClients } from '../harness/install-clients.js';
import { crlfToLf } from '../harness/article-bytes.js';
import { generateCorpus } from '../corpus/generate.js';
import { CLIENT_STACK, describeRun, PASS, runProgram, serverFlags, storeFlags, USER, waitForUidNext } from '../clients/fixture.js';
import { startStack, type Stack } from '../harness/stack.js';
import { readBytes, readMaildir, setMaildirFlags, withoutTuid } from '../clients/maildir.js';

const GROUPS = ['comp.lang.misc', 'alt.test', 'de.test.mbsync'];
/** apt-get may have to fetch the package; the INN start and corpus injection come on top. */
const SETUP_TIMEOUT_MS = 20 * 60_000;
/** One big article (base64 attachment) in GROUPS[0]: a literal far above any line or buffer size. */
const LARGE_ARTICLE_BYTES = 6 * 1024 * 1024;

describe('mbsync (isync) mirrors groups into a Maildir', () => {
  let fx: Stack;
  let rc: string;
  let maildir: string;

  const mbsync = (extra: string[] = []) => runProgram('mbsync', ['-c', rc, ...extra, 'newsfront'], { env: { ...process.env, HOME: fx.dir } });
  const folder = (g: string) => join(maildir, g);
  /** `.mbsyncstate` pairs: [far (server) UID, near (Maildir) UID]. */
  const syncState = (g: string): Array<[number, number]> =>
    readFileSync(join(folder(g), '.mbsyncstate'), 'utf8')
      .split('\n')
      .map((l) => /^(\d+) (\d+) /.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [Number(m[1]), Number(m[2])]);

  beforeAll(async () => {
    await ensureClients(['isync']);
    fx = await startStack({ ...CLIENT_STACK, corpus: { seed: 61, groups: GROUPS, perGroup: 14, largeArticleBytes: LARGE_ARTICLE_BYTES }, state: 'local', tls: true });
    maildir = join(fx.dir, 'Maildir');
    mkdirSync(maildir);
    rc = join(fx.dir, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount newsfront',
        'Host 127.0.0.1',
        `Port ${fx.nf.port}`,
        `User ${USER}`,
        `Pass ${PASS}`,
        'SSLType None',
        'AuthMechs LOGIN',
        '',
        'IMAPStore nf-far',
        'Account newsfront',
        '',
        'MaildirStore nf-near',
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        'Flatten .',
        '',
        'Channel newsfront',
        'Far :nf-far:',
        'Near :nf-near:',
        `Patterns ${GROUPS.map((g) => g.replace(/\./g, '/')).join(' ')}`,
        'Sync Pull PushFlags',
        'Create Near',
        'Remove None',
        'Expunge None',
        'SyncState *',
        '',
      ].join('\n'),
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await fx?.close();
  });

  it('first run: every article (one of 6 MiB) arrives byte-identical to INN\'s copy', async () => {
    expect(Math.max(...fx.byGroup.get(GROUPS[0]!)!.map((a) => a.bytes.length))).toBeGreaterThanOrEqual(LARGE_ARTICLE_BYTES);
    const r = await mbsync();
    expect(r.status, describeRun(r)).toBe(0);
    for (const g of GROUPS) {
      const articles = fx.byGroup.get(g)!;
      // U= in a Maildir name is mbsync's near-side UID; its state file pairs it with the
      // server's UID. They coincide here (pulled in order into an empty Maildir), which
      // lets the checks below name articles by server UID.
      expect(syncState(g).every(([far, near]) => far === near), `${g}: near UID = far UID`).toBe(true);
      expect(syncState(g).map(([far]) => far), g).toEqual(articles.map((_, i) => i + 1));
      const local = readMaildir(folder(g));
      expect([...local.keys()].sort((a, b) => a - b), g).toEqual(articles.map((_, i) => i + 1));
      const stored = await fx.inn.storedArticles(articles.map((a) => a.messageId));
      for (const [i, a] of articles.entries()) {
        const file = readBytes(local.get(i + 1)!.path);
        expect(withoutTuid(file).equals(crlfToLf(stored[i]!)), `${g} UID ${i + 1} ${a.messageId}`).toBe(true);
      }
    }
  });

  it('logs out cleanly (no "IMAP error" from mbsync)', async () => {
    // mbsync enables COMPRESS=DEFLATE; newsfront must still deliver `* BYE` and
    // the tagged LOGOUT OK through the compressor before closing.
    const r = await mbsync();
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stderr, describeRun(r)).not.toMatch(/IMAP error/);
  });

  it('flags go both ways: Maildir S → server \\Seen; server \\Flagged → Maildir F', async () => {
    const g = GROUPS[1]!;
    const local = readMaildir(folder(g));
    setMaildirFlags(folder(g), local.get(2)!, 'S');
    await storeFlags(fx.nf.port, g, 5, '\\Flagged');
    const r = await mbsync();
    expect(r.status, describeRun(r)).toBe(0);
    const server = await serverFlags(fx.nf.port, g);
    expect(server.get(2)).toEqual(['\\Seen']);
    expect(server.get(5)).toEqual(['\\Flagged']);
    const after = readMaildir(folder(g));
    expect(after.get(2)!.flags).toBe('S');
    expect(after.get(5)!.flags).toBe('F');
    for (const [uid, m] of after) if (uid !== 2 && uid !== 5) expect(m.flags, `UID ${uid}`).toBe('');
    for (const [uid, f] of server) if (uid !== 2 && uid !== 5) expect(f, `UID ${uid}`).toEqual([]);
  });

  it('a run after new articles were posted fetches only the new ones', async () => {
    const g = GROUPS[0]!;
    const before = fx.byGroup.get(g)!.length;
    const fresh = generateCorpus({ seed: 6161, groups: [g], perGroup: 3 });
    for (const a of fresh) await fx.inn.post(a.bytes);
    await waitForUidNext(fx.nf.port, g, before + fresh.length + 1);
    const r = await mbsync(['-Dn']); // -Dn: network debug, every command on stdout
    expect(r.status, describeRun(r)).toBe(0);
    const bodyFetches = [...r.stdout.matchAll(/>>> \d+ UID FETCH (\d+) \(BODY\.PEEK\[\]\)/g)].map((m) => Number(m[1]));
    expect(bodyFetches).toEqual(fresh.map((_, i) => before + i + 1));
    const local = readMaildir(folder(g));
    expect(local.size).toBe(before + fresh.length);
    const stored = await fx.inn.storedArticles(fresh.map((a) => a.messageId));
    fresh.forEach((a, i) => {
      expect(withoutTuid(readBytes(local.get(before + i + 1)!.path)).equals(crlfToLf(stored[i]!)), a.messageId).toBe(true);
    });
  });

  it('after a newsfront restart a run changes nothing (same UIDVALIDITY, flags kept, nothing fetched)', async () => {
    const snapshot = () => GROUPS.map((g) => [...readMaildir(folder(g)).values()].map((m) => `${m.uid}:${m.flags}`).sort().join(' '));
    const settle = await mbsync(); // also makes this test stand alone (-t)
    expect(settle.status, describeRun(settle)).toBe(0);
    const before = snapshot();
    const serverBefore = await serverFlags(fx.nf.port, GROUPS[1]!);
    await fx.restartFrontend();
    const r = await mbsync(['-Dn']);
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/UIDVALIDITY of .* changed/i); // mbsync's error on a changed UIDVALIDITY
    expect(r.stdout).not.toMatch(/>>> \d+ UID FETCH \d+ \(BODY\.PEEK\[\]\)/);
    expect(r.stdout).not.toMatch(/>>> \d+ UID STORE/);
    expect(snapshot()).toEqual(before);
    expect(await serverFlags(fx.nf.port, GROUPS[1]!)).toEqual(serverBefore);
  });

  it('logs in over STARTTLS and over IMAPS (self-signed certificate given as CertificateFile)', async () => {
    const g = GROUPS[2]!;
    const tlsRc = join(fx.dir, 'mbsyncrc-tls');
    const lines: string[] = [];
    for (const [name, port, type] of [['starttls', fx.nf.port, 'STARTTLS'], ['imaps', fx.nf.tlsPort!, 'IMAPS']] as const) {
      const dir = join(fx.dir, `Maildir-${name}`);
      mkdirSync(dir);
      lines.push(
        `IMAPAccount ${name}`, 'Host 127.0.0.1', `Port ${port}`, `User ${USER}`, `Pass ${PASS}`,
        `SSLType ${type}`, `CertificateFile ${join(fx.dir, 'cert.pem')}`, '',
        `IMAPStore ${name}-far`, `Account ${name}`, '',
        `MaildirStore ${name}-near`, `Path ${dir}/`, `Inbox ${dir}/INBOX`, 'Flatten .', '',
        `Channel ${name}`, `Far :${name}-far:`, `Near :${name}-near:`, `Patterns ${g.replace(/\./g, '/')}`,
        'Sync Pull PushFlags', 'Create Near', 'Remove None', 'Expunge None', 'SyncState *', '',
      );
    }
    writeFileSync(tlsRc, lines.join('\n'));
    for (const [name, viaStarttls] of [['starttls', true], ['imaps', false]] as const) {
      const r = await runProgram('mbsync', ['-c', tlsRc, '-Dn', name], { env: { ...process.env, HOME: fx.dir } });
      expect(r.status, describeRun(r)).toBe(0);
      expect(r.stderr, describeRun(r)).not.toMatch(/sent in the clear|SSL error|certificate/i);
      expect(/>>> \d+ STARTTLS/.test(r.stdout), `${name}: STARTTLS sent`).toBe(viaStarttls);
      expect(readMaildir(join(fx.dir, `Maildir-${name}`, g)).size, name).toBe(fx.byGroup.get(g)!.length);
    }
  });

  it('with Sync All, a message added to the Maildir is offered once by APPEND, refused, and the sync goes on', async () => {
    const g = GROUPS[1]!;
    const allRc = join(fx.dir, 'mbsyncrc-all');
    // the same channel and state, now also pushing new messages
    writeFileSync(allRc, readFileSync(rc, 'utf8').replace('Sync Pull PushFlags', 'Sync All').replace(/^Port \d+$/m, `Port ${fx.nf.port}`));
    const some = readMaildir(folder(g)).get(1)!;
    copyFileSync(some.path, join(folder(g), 'new', 'written-locally'));
    const count = async (): Promise<number> => (await serverFlags(fx.nf.port, g)).size;
    const before = await count();
    const r = await runProgram('mbsync', ['-c', allRc, '-Dn', 'newsfront'], { env: { ...process.env, HOME: fx.dir } });
    expect(r.status, describeRun(r)).toBe(0);
    expect([...r.stdout.matchAll(/>>> \d+ APPEND "alt\.test"/g)].length, describeRun(r)).toBe(1);
    expect(r.stdout).toMatch(/\d+ NO \[CANNOT\] APPEND/);
    expect(r.stderr).toMatch(/far side refuses to store message/);
    expect(await count()).toBe(before);
    const again = await runProgram('mbsync', ['-c', allRc, '-Dn', 'newsfront'], { env: { ...process.env, HOME: fx.dir } });
    expect(again.status, describeRun(again)).toBe(0);
    expect(again.stdout, 'not offered again').not.toMatch(/>>> \d+ APPEND/);
  });
});
