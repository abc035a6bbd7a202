/**
 * fetchmail (Debian `fetchmail`) against newsfront over INN with durable flags
 * (`state: local`): a mail fetcher pointed at one group, delivering each article
 * to an MDA that writes one file per message.
 *
 * fetchmail must run with `keep` (see docs/clients.md): without it, it sends
 * EXPUNGE right after SELECT and again after marking what it fetched \Deleted,
 * and newsfront refuses both.
 *
 * Checked: the first run delivers every article of the group byte-identical to
 * INN's copy (apart from the `Received:` field fetchmail prepends) and the server
 * has them \Seen afterwards; after a new article is posted to INN, the next run
 * delivers only that one (fetchmail asks for UNSEEN articles).
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClients } from '../harness/install-clients.js';
import { crlfToLf } from '../harness/article-bytes.js';
import { generateCorpus } from '../corpus/generate.js';
import { CLIENT_STACK, describeRun, PASS, runProgram, serverFlags, USER, waitForUidNext } from '../clients/fixture.js';
import { startStack, type Stack } from '../harness/stack.js';

const GROUPS = ['comp.lang.misc', 'de.test.fetchmail'];
const SETUP_TIMEOUT_MS = 20 * 60_000;

/** fetchmail's own trace field: `Received: from … by … with IMAP (fetchmail-…) for <…> (…); date` with folded lines. */
function withoutFetchmailReceived(lf: Buffer): Buffer {
  const m = /^Received: from [^\n]*\n(?:[ \t][^\n]*\n)*/.exec(lf.toString('latin1'));
  if (!m || !m[0].includes('(fetchmail-')) throw new Error(`no fetchmail Received: field at the top: ${lf.subarray(0, 200).toString('latin1')}`);
  return lf.subarray(m[0].length);
}

describe('fetchmail with keep delivers a group\'s articles', () => {
  let fx: Stack;
  let rc: string;
  let out: string;
  const group = GROUPS[1]!;

  const fetchmail = () => runProgram('fetchmail', ['-f', rc, '-v', '--nosyslog'], { env: { ...process.env, HOME: fx.dir, FETCHMAILHOME: fx.dir } });
  /** Delivered files by Message-ID. */
  const delivered = (): Map<string, Buffer> => {
    const m = new Map<string, Buffer>();
    for (const f of readdirSync(out)) {
      const bytes = withoutFetchmailReceived(readFileSync(join(out, f)));
      const text = bytes.toString('latin1');
      const id = /^Message-ID:[ \t]*(<[^>\n]+>)/im.exec(text.slice(0, text.indexOf('\n\n')));
      if (!id) throw new Error(`delivered ${f} has no Message-ID`);
      m.set(id[1]!, bytes);
    }
    return m;
  };

  beforeAll(async () => {
    await ensureClients(['fetchmail']);
    fx = await startStack({ ...CLIENT_STACK, corpus: { seed: 65, groups: GROUPS, perGroup: 10 }, state: 'local' });
    out = join(fx.dir, 'delivered');
    mkdirSync(out);
    rc = join(fx.dir, 'fetchmailrc');
    writeFileSync(
      rc,
      [
        `poll 127.0.0.1 service ${fx.nf.port} protocol IMAP auth password`,
        `  user "${USER}" password "${PASS}"`,
        `  folder "${group}"`,
        '  keep',
        "  sslproto ''",
        // one file per message; $$ is the MDA shell's pid
        `  mda "/bin/sh -c 'cat > ${out}/msg.$$'"`,
        '',
      ].join('\n'),
    );
    chmodSync(rc, 0o600); // fetchmail refuses a readable rc file
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await fx?.close();
  });

  it('first run: every article delivered byte-identical to INN\'s copy, all \\Seen on the server', async () => {
    const r = await fetchmail();
    expect(r.status, describeRun(r)).toBe(0);
    const articles = fx.byGroup.get(group)!;
    const got = delivered();
    expect([...got.keys()].sort()).toEqual(articles.map((a) => a.messageId).sort());
    const stored = await fx.inn.storedArticles(articles.map((a) => a.messageId));
    articles.forEach((a, i) => expect(got.get(a.messageId)!.equals(crlfToLf(stored[i]!)), a.messageId).toBe(true));
    const flags = await serverFlags(fx.nf.port, group);
    expect([...flags.values()].every((f) => f.includes('\\Seen')), JSON.stringify([...flags])).toBe(true);
    expect([...flags.values()].some((f) => f.includes('\\Deleted'))).toBe(false);
  });

  it('a run after a new article was posted delivers only that one', async () => {
    const before = fx.byGroup.get(group)!.length;
    const [fresh] = generateCorpus({ seed: 6565, groups: [group], perGroup: 1 });
    await fx.inn.post(fresh!.bytes);
    await waitForUidNext(fx.nf.port, group, before + 2);
    const files = readdirSync(out).length;
    const r = await fetchmail();
    expect(r.status, describeRun(r)).toBe(0);
    expect(readdirSync(out).length).toBe(files + 1);
    expect([...(r.stdout + r.stderr).matchAll(/IMAP> A\d+ FETCH \d+ RFC822\.HEADER/g)].length, describeRun(r)).toBe(1);
    expect(delivered().get(fresh!.messageId)?.equals(crlfToLf(await fx.inn.storedArticle(fresh!.messageId)))).toBe(true);
    expect((await serverFlags(fx.nf.port, group)).get(before + 1)).toEqual(['\\Seen']);
  });
});
