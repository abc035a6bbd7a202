/**
 * Realistic client commands (as bytes on the wire, including literal payloads
 * sent after `+`) and a small test-only dispatcher that decodes each with the
 * wire layer, producing a plain JSON-able value to compare across splits.
 */
import { Decoder } from '../../../src/imap/wire/decoder.js';
import type { FramedCommand } from '../../../src/imap/wire/framer.js';
import { parseFetchItems } from '../../../src/imap/wire/fetch-att.js';
import { parseSearch } from '../../../src/imap/wire/search-key.js';

export const CORPUS: string[] = [
  'a1 CAPABILITY\r\n',
  'a2 NOOP\r\n',
  'a3 LOGIN alice "s3cr\\"et\\\\"\r\n',
  'a4 LOGIN {5}\r\nalice {8}\r\npass word\r\n'.replace('{8}', '{9}'),
  'a5 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n',
  'a6 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n',
  'a7 AUTHENTICATE PLAIN\r\n',
  'AGFsaWNlAHNlY3JldA==\r\n',
  'a8 ENABLE CONDSTORE QRESYNC UTF8=ACCEPT\r\n',
  'a9 ID ("name" "Thunderbird" "version" "115.0")\r\n',
  'a10 ID NIL\r\n',
  'a11 LIST "" "*"\r\n',
  'a12 LIST "" comp.lang.%\r\n',
  'a13 LIST (SUBSCRIBED) "" "INBOX" RETURN (CHILDREN)\r\n',
  'a14 SELECT inbox\r\n',
  'a15 SELECT "comp.lang.misc" (CONDSTORE)\r\n',
  'a16 SELECT de.alt.&AMQ-rger (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n',
  'a17 EXAMINE {14}\r\ncomp.lang.misc\r\n',
  'a18 STATUS comp.lang.misc (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)\r\n',
  'a19 FETCH 1:* (FLAGS)\r\n',
  'a20 FETCH 1,3:5,7:* ALL\r\n',
  'a21 FETCH 2 FULL\r\n',
  'a22 UID FETCH 100:200 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID References)])\r\n',
  'a23 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n',
  'a24 FETCH 5 (BODY[1.2.MIME] BODY[1.TEXT]<0.2048> BINARY.PEEK[2]<100.50> BINARY.SIZE[2])\r\n',
  'a25 FETCH 5 (BODYSTRUCTURE ENVELOPE INTERNALDATE MODSEQ)\r\n',
  'a26 FETCH 5 body[]\r\n',
  'a27 FETCH 5 (RFC822.HEADER RFC822.TEXT RFC822)\r\n',
  'a28 UID SEARCH RETURN (MIN MAX COUNT) UNSEEN SINCE 1-Feb-2024\r\n',
  'a29 SEARCH OR FROM "bob" NOT (SEEN SINCE "1-Feb-2024") UID 100:*\r\n',
  'a30 SEARCH CHARSET UTF-8 SUBJECT {5}\r\n\xc3\xa9t\xc3\xa9\r\n',
  'a31 UID SEARCH MODSEQ "/flags/\\\\draft" all 620162338\r\n',
  'a32 SEARCH NOT NOT OR OR DELETED DRAFT OR FLAGGED ANSWERED (LARGER 100 SMALLER 20000)\r\n',
  'a33 SEARCH HEADER Message-ID "<abc@example.org>" KEYWORD $Junk UNKEYWORD $NotJunk\r\n',
  'a34 SEARCH RETURN (SAVE) NEW OLD RECENT\r\n',
  'a35 UID SEARCH UID $ SENTBEFORE 5-Mar-2023 SENTON 6-Mar-2023 SENTSINCE 7-Mar-2023 BEFORE 1-Jan-2000 ON 2-Jan-2000\r\n',
  'a36 STORE 1:3 +FLAGS.SILENT (\\Seen \\Answered $Label1)\r\n',
  'a37 UID STORE 5 FLAGS ()\r\n',
  'a38 IDLE\r\n',
  'DONE\r\n',
  'a39 APPEND INBOX (\\Seen) " 4-Jul-2024 10:11:12 +0200" {21+}\r\nSubject: hi\r\n\r\nbody\r\n\r\n',
  'a40 CREATE "&ZeVnLIqe-"\r\n',
  'a41 SEARCH TEXT ~{3}\r\nabc\r\n',
  'a42 FETCH 1 (BODY[HEADER.FIELDS.NOT ("X-Spam" Received)])\r\n',
  'a43 SEARCH ((((ALL))))\r\n',
  'a44 LOGOUT\r\n',
  '\r\n',
  'a45 NOOP\n',
];

/** Decode one framed command with the wire layer into a plain value (errors become `{ error }`). */
export function decodeCommand(cmd: FramedCommand, utf8 = false): unknown {
  const d = new Decoder(cmd, { utf8 });
  try {
    return { ok: decodeBody(d) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function decodeBody(d: Decoder): unknown {
  const first = d.peekByte();
  if (first < 0) return null;
  const tag = d.tag();
  if (d.atEnd()) return { line: tag }; // SASL response, DONE
  d.sp();
  let name = d.atom().toUpperCase();
  if (name === 'UID') {
    d.sp();
    name = 'UID ' + d.atom().toUpperCase();
  }
  const args: unknown[] = [];
  switch (name) {
    case 'CAPABILITY': case 'NOOP': case 'IDLE': case 'LOGOUT':
      break;
    case 'LOGIN':
      d.sp(); args.push(d.astring()); d.sp(); args.push(d.astring());
      break;
    case 'AUTHENTICATE':
      d.sp(); args.push(d.atom());
      if (d.maybeSp()) args.push(d.rest().toString('latin1'));
      break;
    case 'ENABLE':
      while (d.maybeSp()) args.push(d.atom());
      break;
    case 'ID':
      d.sp();
      if (d.maybe('NIL')) args.push(null);
      else args.push(d.list(() => d.nstring()));
      break;
    case 'LIST':
      d.sp();
      if (d.peekByte() === 0x28) { args.push(d.list(() => d.atom())); d.sp(); }
      args.push(d.mailbox()); d.sp(); args.push(d.listMailbox());
      if (d.maybe(' RETURN ')) args.push(d.list(() => d.atom()));
      break;
    case 'SELECT': case 'EXAMINE': case 'CREATE':
      d.sp(); args.push(d.mailbox());
      if (d.maybe(' (')) {
        const p = d.atom().toUpperCase();
        args.push(p);
        if (p === 'QRESYNC') {
          d.sp();
          d.expect('(');
          args.push(d.nzNumber()); d.sp(); args.push(d.number64());
          if (d.maybeSp()) args.push(d.sequenceSet().toString());
          d.expect(')');
        }
        d.expect(')');
      }
      break;
    case 'STATUS':
      d.sp(); args.push(d.mailbox()); d.sp(); args.push(d.list(() => d.atom()));
      break;
    case 'FETCH': case 'UID FETCH': {
      d.sp(); args.push(d.sequenceSetOrSaved().toString()); d.sp();
      const req = parseFetchItems(d);
      args.push(req);
      break;
    }
    case 'SEARCH': case 'UID SEARCH':
      args.push(JSON.parse(JSON.stringify(parseSearch(d), (_k, v) => (v && typeof v === 'object' && 'starFrom' in v ? String(v) : v))));
      break;
    case 'STORE': case 'UID STORE':
      d.sp(); args.push(d.sequenceSet().toString()); d.sp();
      args.push(d.takeWhile((c) => c !== 0x20, 'store-att-flags')); d.sp();
      args.push(d.flagList());
      break;
    case 'APPEND':
      d.sp(); args.push(d.mailbox()); d.sp();
      if (d.peekByte() === 0x28) { args.push(d.flagList()); d.sp(); }
      if (d.peekByte() === 0x22) { args.push(d.dateTime().toISOString()); d.sp(); }
      args.push(d.literal().toString('latin1'));
      break;
    default:
      d.fail('known command');
  }
  d.end();
  return { tag, name, args };
}
