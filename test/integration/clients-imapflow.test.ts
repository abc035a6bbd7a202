/**
 * imapflow as a disconnected client (RFC 1733): what docs/clients.md lists for
 * it beyond test/integration/imap-inn.test.ts — resync with CONDSTORE and
 * QRESYNC (RFC 7162) through imapflow's own API, over INN, flags durable in
 * `state: local`.
 *
 * A first session records UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT and logs out.
 * Meanwhile another session changes flags and a new article is posted to INN.
 * The client comes back with `qresync: true` and `mailboxOpen(path,
 * { uidValidity, changedSince })`: the SELECT itself must report exactly the
 * changed UIDs with their flags (imapflow `flags` events), EXISTS must include
 * the new article, and `UID FETCH uidnext:*` brings only that one. CONDSTORE
 * alone (`changedSince` on FETCH) must list the same UIDs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow, type FlagsEvent } from 'imapflow';
import { generateCorpus } from '../corpus/generate.js';
import { CLIENT_STACK, PASS, storeFlags, USER, waitForUidNext } from '../clients/fixture.js';
import { startStack, type Stack } from '../harness/stack.js';

const GROUPS = ['comp.lang.misc', 'alt.test.imapflow'];

function client(port: number, qresync: boolean): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: USER, pass: PASS }, logger: false, qresync, disableAutoIdle: true });
}

describe('imapflow resync with CONDSTORE/QRESYNC', () => {
  let fx: Stack;
  beforeAll(async () => {
    fx = await startStack({ ...CLIENT_STACK, corpus: { seed: 64, groups: GROUPS, perGroup: 12 }, state: 'local' });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('QRESYNC SELECT reports exactly the flag changes made while offline; new articles come by UID', async () => {
    const g = GROUPS[1]!;
    const a = client(fx.nf.port, true);
    await a.connect();
    const first = await a.mailboxOpen(g);
    const uidValidity = first.uidValidity;
    const modseq = first.highestModseq!;
    const uidNext = first.uidNext;
    expect(modseq, 'HIGHESTMODSEQ offered').toBeDefined();
    expect(first.exists).toBe(fx.byGroup.get(g)!.length);
    await a.logout();

    // offline: another session marks articles, INN gets a new one
    await storeFlags(fx.nf.port, g, 2, '\\Seen');
    await storeFlags(fx.nf.port, g, 5, '\\Seen \\Answered');
    await storeFlags(fx.nf.port, g, 9, '\\Flagged');
    const [fresh] = generateCorpus({ seed: 6464, groups: [g], perGroup: 1 });
    await fx.inn.post(fresh!.bytes);
    await waitForUidNext(fx.nf.port, g, uidNext + 1);

    const b = client(fx.nf.port, true);
    const events: FlagsEvent[] = [];
    b.on('flags', (e: FlagsEvent) => events.push(e));
    await b.connect();
    try {
      expect(b.enabled.has('QRESYNC'), 'QRESYNC enabled').toBe(true);
      const box = await b.mailboxOpen(g, { uidValidity, changedSince: modseq });
      expect(box.uidValidity).toBe(uidValidity);
      expect(box.highestModseq! > modseq).toBe(true);
      expect(box.exists).toBe(fx.byGroup.get(g)!.length + 1);
      const changed = events.map((e) => [e.uid, [...e.flags].sort()]).sort((x, y) => Number(x[0]) - Number(y[0]));
      expect(changed).toEqual([
        [2, ['\\Seen']],
        [5, ['\\Answered', '\\Seen']],
        [9, ['\\Flagged']],
      ]);
      const news: number[] = [];
      for await (const m of b.fetch(`${uidNext}:*`, { uid: true, envelope: true }, { uid: true })) {
        news.push(m.uid);
        expect(m.envelope!.messageId).toBe(fresh!.messageId);
      }
      expect(news).toEqual([uidNext]);
    } finally {
      await b.logout();
    }
  });

  it('CONDSTORE FETCH (CHANGEDSINCE) lists the same changes', async () => {
    const g = GROUPS[0]!;
    const a = client(fx.nf.port, false);
    await a.connect();
    try {
      // Changes are made before SELECT: while a mailbox is selected newsfront also
      // announces other sessions' changes as untagged FETCH, and imapflow's fetch()
      // yields those as well (see docs/clients.md).
      const st = await a.status(g, { highestModseq: true });
      if (st === false) throw new Error(`STATUS ${g} failed`);
      expect(st.highestModseq, 'HIGHESTMODSEQ in STATUS').toBeDefined();
      const modseq = st.highestModseq!;
      await storeFlags(fx.nf.port, g, 3, '\\Seen');
      await storeFlags(fx.nf.port, g, 4, '$Label1');
      const box = await a.mailboxOpen(g);
      expect(box.highestModseq! > modseq).toBe(true);
      const got: Array<[number, string[]]> = [];
      for await (const m of a.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: modseq })) {
        got.push([m.uid, [...(m.flags ?? [])].sort()]);
      }
      expect(got).toEqual([
        [3, ['\\Seen']],
        [4, ['$Label1']],
      ]);
    } finally {
      await a.logout();
    }
  });
});
