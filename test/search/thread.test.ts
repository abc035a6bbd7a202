import { describe, expect, it } from 'vitest';
import { MessageKeys, threadMessages, type ThreadAlgorithm } from '../../src/search/index.js';
import { renderThreads } from '../../src/imap/render/thread.js';
import { rec, type Partial } from './records.js';

const T0 = Date.parse('2000-03-05T00:00:00Z');
const minute = (k: number): number => T0 + k * 60_000;

function thread(records: Partial[], algorithm: ThreadAlgorithm = 'REFERENCES', subset?: number[]): string {
  const keys = new MessageKeys(records.map((r) => rec({ date: minute(r.uid), ...r })));
  return renderThreads(threadMessages(keys, algorithm, subset)).toString('latin1');
}

/**
 * A mailbox that gives the THREAD answers printed in RFC 5256 §4 (messages
 * 166–208; the RFC does not print the messages, these are made to fit).
 */
function rfcMailbox(): Partial[] {
  const byDate = [
    166, 167, 168, 169, 172, 170, 171, 173, 174, 175, 176, 178, 181, 180, 179, 177, 183, 182, 188, 184, 185, 186, 187, 189, 190, 191, 192, 193, 194,
    195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208,
  ];
  const group = (uids: number[], subject: string) => new Map(uids.map((u) => [u, subject]));
  const subjects = new Map([
    ...group([174, 175, 176, 178, 181, 180], 'Meeting'),
    ...group([177, 183, 182, 188, 184, 185, 186, 187, 189], 'Plans'),
    ...group([194, 195], 'Lunch'),
    ...group([196], 'Party'),
    ...group([197, 198], 'Re: Party'),
    ...group([200], 'Car'),
    ...group([202], 'Re: car'),
    ...group([205], 'Bike'),
    ...group([206], 'Wheels'),
    ...group([207], 'Re: Wheels'),
    ...group([170], 'Re: Topic 170'),
    ...group([179], 'Re: Topic 179'),
  ]);
  const refs = new Map([
    [170, '<gone@rfc>'],
    [179, '<gone@rfc>'],
    [197, '<196@rfc>'],
    [198, '<196@rfc>'],
    [202, '<200@rfc>'],
    [206, '<205@rfc>'],
    [207, '<205@rfc> <206@rfc>'],
  ]);
  const out: Partial[] = [];
  for (let uid = 166; uid <= 208; uid++) {
    out.push({ uid, date: minute(byDate.indexOf(uid)), subject: subjects.get(uid) ?? `Topic ${uid}`, id: `<${uid}@rfc>`, refs: refs.get(uid) });
  }
  return out;
}

describe('THREAD, RFC 5256 §4 examples', () => {
  it('ORDEREDSUBJECT', () => {
    expect(thread(rfcMailbox(), 'ORDEREDSUBJECT')).toBe(
      '(166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)(177 (183)(182)(188)(184)(185)(186)(187)(189))' +
        '(190)(191)(192)(193)(194 195)(196 (197)(198))(199)(200 202)(201)(203)(204)(205)(206 207)(208)',
    );
  });

  it('REFERENCES', () => {
    expect(thread(rfcMailbox(), 'REFERENCES')).toBe(
      '(166)(167)(168)(169)(172)((170)(179))(171)(173)((174)(175)(176)(178)(181)(180))((177)(183)(182)(188)(184)(185)(186)(187)(189))' +
        '(190)(191)(192)(193)((194)(195))(196 (197)(198))(199)(200 202)(201)(203)(204)(205 206 207)(208)',
    );
  });

  it('REFS: no gathering by subject, threads ordered by their latest message', () => {
    expect(thread(rfcMailbox(), 'REFS')).toBe(
      '(166)(167)(168)(169)(172)(171)(173)(174)(175)(176)(178)(181)(180)((170)(179))(177)(183)(182)(188)(184)(185)(186)(187)(189)' +
        '(190)(191)(192)(193)(194)(195)(196 (197)(198))(199)(201)(200 202)(203)(204)(205 206 207)(208)',
    );
  });

  it('the response example (2)(3 6 (4 23)(44 7 96))', () => {
    const records: Partial[] = [
      { uid: 2, date: minute(0), subject: 'other', id: '<2@x>' },
      { uid: 3, date: minute(1), subject: 'x', id: '<3@x>' },
      { uid: 4, date: minute(3), subject: 'Re: x', id: '<4@x>', refs: '<3@x> <6@x>' },
      { uid: 6, date: minute(2), subject: 'Re: x', id: '<6@x>', refs: '<3@x>' },
      { uid: 7, date: minute(6), subject: 'Re: x', id: '<7@x>', refs: '<3@x> <6@x> <44@x>' },
      { uid: 23, date: minute(4), subject: 'Re: x', id: '<23@x>', refs: '<3@x> <6@x> <4@x>' },
      { uid: 44, date: minute(5), subject: 'Re: x', id: '<44@x>', refs: '<3@x> <6@x>' },
      { uid: 96, date: minute(7), subject: 'Re: x', id: '<96@x>', refs: '<3@x> <6@x> <44@x> <7@x>' },
    ];
    for (const algorithm of ['REFERENCES', 'REFS'] as const) expect(thread(records, algorithm)).toBe('(2)(3 6 (4 23)(44 7 96))');
  });
});

describe('THREAD=REFERENCES links', () => {
  it('missing parents become dummies; a dummy root with one child gives way to it', () => {
    expect(thread([{ uid: 1, refs: '<gone@x>' }])).toBe('(1)');
    expect(thread([{ uid: 1, refs: '<gone@x>' }, { uid: 2, refs: '<gone@x>' }])).toBe('((1)(2))');
    // a chain of missing ancestors collapses to the topmost
    expect(thread([{ uid: 1, refs: '<g1@x> <g2@x>' }, { uid: 2, refs: '<g1@x>' }])).toBe('((1)(2))');
    // a missing message between two present ones: the child moves up to the grandparent
    expect(thread([{ uid: 1, id: '<r@x>' }, { uid: 2, refs: '<r@x> <g1@x> <g2@x>' }])).toBe('(1 2)');
  });

  it('uses In-Reply-To (its first msg-id) only without usable References', () => {
    const base: Partial[] = [
      { uid: 1, id: '<a@x>' },
      { uid: 2, id: '<b@x>' },
    ];
    expect(thread([...base, { uid: 3, irt: 'Your message of Mon, 1 Jan 2024 <b@x> and <a@x>' }])).toBe('(1)(2 3)');
    expect(thread([...base, { uid: 3, refs: '<a@x>', irt: '<b@x>' }])).toBe('(1 3)(2)');
    expect(thread([...base, { uid: 3, refs: 'garbage <no-at-sign>', irt: '<b@x>' }])).toBe('(1)(2 3)');
  });

  it('normalizes quoting in msg-ids', () => {
    expect(thread([{ uid: 1, id: '<"01KF8JCEOCBS0045PS"@xxx.yyy.com>' }, { uid: 2, refs: '<01KF8JCEOCBS0045PS@xxx.yyy.com>' }])).toBe('(1 2)');
    expect(thread([{ uid: 1, id: '<a\r\n @x>' }, { uid: 2, irt: '<"a"@x> (comment)' }])).toBe('(1 2)');
  });

  it('never makes a loop', () => {
    // each names the other as parent: the later one's link would close the loop
    expect(thread([{ uid: 1, id: '<a@x>', refs: '<b@x>' }, { uid: 2, id: '<b@x>', refs: '<a@x>' }])).toBe('(2 1)');
    // a three-message cycle
    expect(
      thread([
        { uid: 1, id: '<a@x>', refs: '<c@x>' },
        { uid: 2, id: '<b@x>', refs: '<a@x>' },
        { uid: 3, id: '<c@x>', refs: '<b@x>' },
      ]),
    ).toBe('(3 1 2)');
    // a message naming itself, and a References header that loops inside
    expect(thread([{ uid: 1, id: '<a@x>', refs: '<a@x>' }])).toBe('(1)');
    expect(thread([{ uid: 1, id: '<m@x>', refs: '<x@x> <y@x> <x@x>' }])).toBe('(1)');
  });

  it("a message's own References beat what other messages said about its parent", () => {
    const records: Partial[] = [
      { uid: 1, id: '<d@x>', refs: '<p@x> <c@x>' }, // says c's parent is p
      { uid: 2, id: '<c@x>', refs: '<q@x>' }, // c says q
      { uid: 3, id: '<p@x>' },
      { uid: 4, id: '<q@x>' },
    ];
    expect(thread(records)).toBe('(3)(4 2 1)');
    // and a later message's References do not move an existing link
    expect(thread([...records, { uid: 5, refs: '<p@x> <c@x> <d@x>' }])).toBe('(3)(4 2 1 5)');
  });

  it('a duplicate Message-ID gets an id of its own: replies go to the first', () => {
    expect(thread([{ uid: 1, id: '<a@x>' }, { uid: 2, id: '<a@x>' }, { uid: 3, refs: '<a@x>' }])).toBe('(1 3)(2)');
    expect(thread([{ uid: 1, id: '<a@x>' }, { uid: 2, id: '<a@x>', refs: '<z@x>' }])).toBe('(1)(2)');
  });

  it('messages without a Message-ID still thread by their references', () => {
    expect(thread([{ uid: 1 }, { uid: 2, refs: '<x@x>' }, { uid: 3, id: '<x@x>' }])).toBe('(1)(3 2)');
  });

  it('threads only the selected messages; the others count as missing', () => {
    const records: Partial[] = [
      { uid: 1, id: '<a@x>' },
      { uid: 2, id: '<b@x>', refs: '<a@x>' },
      { uid: 3, refs: '<a@x> <b@x>' },
    ];
    expect(thread(records)).toBe('(1 2 3)');
    expect(thread(records, 'REFERENCES', [0, 2])).toBe('(1 3)');
    expect(thread(records, 'REFERENCES', [1, 2])).toBe('(2 3)');
    expect(thread(records, 'REFERENCES', [])).toBe('');
  });

  it('orders siblings and threads by sent date in UTC, INTERNALDATE without a Date header', () => {
    const records: Partial[] = [
      { uid: 1, id: '<r@x>', date: 'Mon, 1 Jan 2024 10:00:00 +0000' },
      { uid: 2, refs: '<r@x>', date: 'Mon, 1 Jan 2024 06:30:00 -0500' }, // 11:30Z
      { uid: 3, refs: '<r@x>', date: 'Mon, 1 Jan 2024 14:00:00 +0300' }, // 11:00Z
      { uid: 4, refs: '<r@x>', date: 'garbage', arrival: Date.parse('2024-01-01T11:15:00Z') },
      { uid: 5, date: 'Tue, 2 Jan 2024 01:00:00 +0900' }, // Jan 1 16:00Z
      { uid: 6, date: 'Mon, 1 Jan 2024 20:00:00 +0000' },
      { uid: 7, date: 'Mon, 1 Jan 2024 20:00:00 +0000' }, // same instant: mailbox order
    ];
    expect(thread(records)).toBe('(1 (3)(4)(2))(5)(6)(7)');
    expect(thread(records, 'REFS')).toBe('(1 (3)(4)(2))(5)(6)(7)');
  });

  it('REFS orders threads by their latest message', () => {
    const records: Partial[] = [
      { uid: 1, id: '<a@x>', subject: 'a' },
      { uid: 2, subject: 'b' },
      { uid: 3, subject: 'c' },
      { uid: 4, refs: '<a@x>', subject: 'Re: a' },
    ];
    expect(thread(records, 'REFERENCES')).toBe('(1 4)(2)(3)');
    expect(thread(records, 'REFS')).toBe('(2)(3)(1 4)');
  });

  it('a reply chain 20,000 deep threads and renders without deep recursion', () => {
    const records: Partial[] = [];
    for (let uid = 1; uid <= 20_000; uid++) records.push({ uid, id: `<${uid}@x>`, refs: uid > 1 ? `<${uid - 1}@x>` : undefined });
    const out = thread(records);
    expect(out.startsWith('(1 2 3 ')).toBe(true);
    expect(out.endsWith(' 19999 20000)')).toBe(true);
  });
});

describe('THREAD of a whole mailbox, kept packed', () => {
  it('answers a repeated THREAD with the same forest (dummies, nesting, deep chains), built once', () => {
    for (const algorithm of ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'] as const) {
      const records = rfcMailbox().map((r) => rec({ date: minute(r.uid), ...r }));
      for (let uid = 300; uid < 700; uid++) records.push(rec({ uid, date: minute(uid), id: `<${uid}@deep>`, refs: uid > 300 ? `<${uid - 1}@deep>` : undefined }));
      const keys = new MessageKeys(records);
      const first = threadMessages(keys, algorithm);
      const again = threadMessages(keys, algorithm);
      expect(again).not.toBe(first); // unpacked anew, not the objects built
      expect(again).toEqual(first);
      expect(renderThreads(again).equals(renderThreads(first))).toBe(true);
      expect(renderThreads(first).toString('latin1')).toBe(renderThreads(threadMessages(new MessageKeys(records), algorithm)).toString('latin1'));
    }
    // a dummy (missing parent) survives packing as a node without a UID
    const keys = new MessageKeys([rec({ uid: 1, date: minute(1), id: '<a@x>', refs: '<gone@x>' }), rec({ uid: 2, date: minute(2), id: '<b@x>', refs: '<gone@x>' })]);
    threadMessages(keys, 'REFERENCES');
    expect(renderThreads(threadMessages(keys, 'REFERENCES')).toString('latin1')).toBe('((1)(2))');
  });
});

describe('THREAD=REFERENCES gathering by base subject (step 5)', () => {
  const cases: [name: string, records: Partial[], expected: string][] = [
    ['a reply joins the original', [{ uid: 1, subject: 'x' }, { uid: 2, subject: 'Re: x' }], '(1 2)'],
    ['an earlier reply still hangs under the original', [{ uid: 1, subject: 'Re: x' }, { uid: 2, subject: 'x' }], '(2 1)'],
    ['two originals share a dummy', [{ uid: 1, subject: 'x' }, { uid: 2, subject: 'X' }], '((1)(2))'],
    [
      'later ones join the dummy',
      [
        { uid: 1, subject: 'x' },
        { uid: 2, subject: 'x' },
        { uid: 3, subject: 'Re: x' },
      ],
      '((1)(2)(3))',
    ],
    ['two replies share a dummy', [{ uid: 1, subject: 'Re: x' }, { uid: 2, subject: 'Fwd: x' }], '((1)(2))'],
    [
      'a message joins a dummy thread of that subject',
      [
        { uid: 1, subject: 'Re: y', refs: '<gone@x>' },
        { uid: 2, subject: 'Re: y', refs: '<gone@x>' },
        { uid: 3, subject: 'y' },
      ],
      '((1)(2)(3))',
    ],
    [
      'two dummies merge their children',
      [
        { uid: 1, subject: 'Re: z', refs: '<g1@x>' },
        { uid: 2, subject: 'Re: z', refs: '<g1@x>' },
        { uid: 3, subject: 'Re: z', refs: '<g2@x>' },
        { uid: 4, subject: 'Re: z', refs: '<g2@x>', date: minute(1.5) },
      ],
      '((1)(4)(2)(3))',
    ],
    [
      'whole threads are gathered',
      [
        { uid: 1, subject: 'w', id: '<w1@x>' },
        { uid: 2, subject: 'Re: w', refs: '<w1@x>' },
        { uid: 3, subject: 'w' },
      ],
      '((1 2)(3))',
    ],
    ['a reply to a missing message joins by subject', [{ uid: 1, subject: 'w' }, { uid: 2, subject: 'Re: w', refs: '<gone@x>' }], '(1 2)'],
    ['encoded words are decoded first', [{ uid: 1, subject: '=?utf-8?q?caf=C3=A9?=' }, { uid: 2, subject: 'Re: café' }], '(1 2)'],
    ['list tags and forward markers go', [{ uid: 1, subject: 'x' }, { uid: 2, subject: 'Re: [list] Fwd: x' }], '(1 2)'],
    ['empty subjects are never gathered', [{ uid: 1, subject: '' }, { uid: 2, subject: 'Re:' }], '(1)(2)'],
  ];
  it.each(cases)('%s', (_name, records, expected) => {
    expect(thread(records)).toBe(expected);
  });

  it('REFS and ORDEREDSUBJECT on the same messages', () => {
    expect(thread([{ uid: 1, subject: 'x' }, { uid: 2, subject: 'Re: x' }], 'REFS')).toBe('(1)(2)');
    expect(thread([{ uid: 1, subject: 'x' }, { uid: 2, subject: 'Re: x' }], 'ORDEREDSUBJECT')).toBe('(1 2)');
    expect(thread([{ uid: 1, subject: 'Re: x' }, { uid: 2, subject: 'y' }, { uid: 3, subject: 'x', date: minute(0) }], 'ORDEREDSUBJECT')).toBe('(3 1)(2)');
  });

  it('gathers by subject among 300,000 roots (a 1M-article group has that many; no argument-spread limit)', () => {
    const n = 300_000;
    const records = Array.from({ length: n }, (_, i) => rec({ uid: i + 1, subject: i < 2 ? 'same' : `s${i}`, date: T0 + i * 1000 }));
    const threads = threadMessages(new MessageKeys(records), 'REFERENCES');
    expect(threads.length).toBe(n - 1);
    expect(renderThreads(threads.slice(0, 2)).toString('latin1')).toBe('((1)(2))(3)'); // two non-replies under a dummy (RFC 5256 5.C)
  });
});

