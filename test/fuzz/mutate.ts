/**
 * IMAP command-line mutator for the fuzzer: valid lines of a recorded session
 * (SEEDS, one per grammar area of RFC 9051 / the extensions newsfront offers)
 * mutated at the byte and token level. Deterministic for a seed (Prng from
 * the corpus generator).
 *
 * Mutations aim at the decoder's edges: literals of every size and form
 * (`{n}`, `{n+}`, `~{n}`, huge n), numbers at and past 2^32, deep
 * parentheses, unterminated quotes, NUL/CR/LF/8-bit bytes inside lines,
 * spliced tokens from other commands, and (rarely) lines longer than
 * MAX_LINE_LENGTH. COMPRESS and STARTTLS are left out of the seeds: after
 * them the stream is no longer plain text and the rest of the connection
 * would only test the inflater.
 */
import { Prng } from '../corpus/prng.js';

/** Bodies (without tag) of a recorded session against the fuzz fixture. */
export const SEEDS: readonly string[] = [
  'CAPABILITY',
  'NOOP',
  'ID ("name" "fuzz" "version" "1")',
  'ENABLE CONDSTORE QRESYNC UTF8=ACCEPT',
  'NAMESPACE',
  'LIST "" "*"',
  'LIST (SUBSCRIBED) "" "fuzz.%" RETURN (CHILDREN STATUS (MESSAGES UIDNEXT))',
  'LSUB "" "*"',
  'STATUS fuzz.mime (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE HIGHESTMODSEQ)',
  'SELECT fuzz.mime',
  'SELECT fuzz.mime (CONDSTORE)',
  'SELECT fuzz.mime (QRESYNC (1000 1 1:20 (1,5,9 1,5,9)))',
  'EXAMINE fuzz.plain',
  'EXAMINE "fuzz.plain"',
  'FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)',
  'FETCH 1:5 (ENVELOPE BODYSTRUCTURE)',
  'FETCH 1 BODY.PEEK[]',
  'FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)] BODY.PEEK[TEXT]<0.100>)',
  'FETCH 3 (BODY[1.MIME] BODY[2] BINARY.PEEK[1] BINARY.SIZE[1])',
  'FETCH 1:3 (BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED)] RFC822.HEADER RFC822.TEXT)',
  'FETCH 4,6,8:10 FAST',
  'FETCH * ALL',
  'FETCH 1:* FULL',
  'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)',
  'UID FETCH 2:4 (BODY.PEEK[1.2.3]<5.10>)',
  'UID SEARCH ALL',
  'SEARCH SUBJECT "test" FROM alice',
  'SEARCH OR SEEN (NOT FLAGGED) LARGER 100',
  'SEARCH CHARSET UTF-8 BODY {4}\r\ntext',
  'SEARCH TEXT "Grüße" SINCE 1-Jan-2000 BEFORE 1-Jan-2030',
  'SEARCH HEADER Message-ID "<x@y>" UID 1:5,7 MODSEQ 1',
  'UID SEARCH RETURN (MIN MAX COUNT ALL) NOT DELETED',
  'UID FETCH 1:* (EMAILID THREADID PREVIEW)',
  'FETCH 1:3 PREVIEW (LAZY)',
  'UID SEARCH EMAILID M0123abcdef OR THREADID T42 NOT EMAILID x_-9',
  'STATUS fuzz.mime (MESSAGES MAILBOXID)',
  'LIST "" "*" RETURN (MYRIGHTS CHILDREN)',
  'ENABLE UIDONLY',
  'SORT (DATE SUBJECT) UTF-8 ALL',
  'THREAD REFERENCES UTF-8 ALL',
  'STORE 1:3 +FLAGS (\\Seen)',
  'STORE 2 -FLAGS.SILENT (\\Flagged $Label)',
  'UID STORE 1:* FLAGS (\\Answered)',
  'UID STORE 5 (UNCHANGEDSINCE 3) +FLAGS (\\Deleted)',
  'COPY 1 INBOX',
  'MOVE 1:2 fuzz.plain',
  'APPEND fuzz.plain (\\Seen) {10}\r\n0123456789',
  'EXPUNGE',
  'UID EXPUNGE 1:3',
  'CREATE new.box',
  'DELETE fuzz.plain',
  'RENAME fuzz.plain other',
  'SUBSCRIBE fuzz.mime',
  'UNSUBSCRIBE fuzz.mime',
  'GETACL fuzz.mime',
  'MYRIGHTS fuzz.mime',
  'LISTRIGHTS fuzz.mime alice',
  'SETACL fuzz.mime bob lr',
  'CHECK',
  'UNSELECT',
  'CLOSE',
  'IDLE',
  'DONE',
  'AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==',
  'LOGIN alice secret',
  'LOGIN {5}\r\nalice {6}\r\nsecret',
  'LOGIN "alice" {6+}\r\nsecret',
];

const SPECIAL = [0x00, 0x0d, 0x0a, 0x7b, 0x7d, 0x28, 0x29, 0x5b, 0x5d, 0x22, 0x5c, 0x2a, 0x3a, 0x2c, 0x3c, 0x3e, 0x2e, 0x25, 0x20, 0x7e, 0x2b, 0xff, 0xc3, 0x80];

const TOKENS: readonly string[] = [
  '{0}\r\n', '{5}\r\n', '{1}\r\n', '{65536}\r\n', '{65537}\r\n', '{4294967296}\r\n', '{99999999999999999999}\r\n', '{10+}\r\n',
  '{5000+}\r\n', '~{3}\r\n', '{-1}\r\n', '{', '}', '4294967295', '4294967296', '0', '-1', '*', '1:*', '*:1', '0:0', '1,', ',,',
  '"', '"unterminated', '""', 'NIL', '()', '(', ')', '[', ']', '<0.4294967295>', '<4294967295.1>', '<>', 'BODY[', 'BODY[1.2.3.4.5.6.7.8.9.MIME]',
  'BINARY[0]', 'HEADER.FIELDS ()', '\\', '\\Seen', '\\*', 'UTF-8', 'CHARSET x-unknown', 'Grüße', '\u2603', '\r\n', '\n', '\r', ' ', '  ',
  'DONE\r\n', 'LOGOUT', 'UID', 'OR OR OR OR', 'NOT NOT NOT', 'CHANGEDSINCE 0', 'QRESYNC', '(((((((((((((((((((((((((((((((((((((((((',
];

/** A fresh tag unlikely to collide with mutation output. */
export function tagFor(n: number): string {
  return `f${n.toString(36)}`;
}

function insert(b: Buffer, at: number, x: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), x, b.subarray(at)]);
}

export interface MutateOptions {
  /**
   * Also insert runs of 50–500 LIST wildcards (`%`, `*`). Off by default:
   * they reach a known ReDoS (test/fuzz/list-patterns.test.ts) that blocks an
   * in-process server, and with it the fuzzer itself.
   */
  wildcardRuns?: boolean;
}

/** One mutated (or occasionally intact) command body; may contain CR/LF/NUL. */
export function mutateLine(rng: Prng, opts: MutateOptions = {}): Buffer {
  const seed = rng.pick(SEEDS);
  if (opts.wildcardRuns && /^(LIST|LSUB) /.test(seed) && rng.chance(0.3)) {
    const unit = rng.pick(['%', '*', '%.', '*%', 'a%']);
    return Buffer.from(`${seed.slice(0, 4)} "" "${unit.repeat(20 + rng.int(400))}${rng.pick(['', 'x', '.'])}"`);
  }
  let b: Buffer = Buffer.from(seed, 'utf8');
  if (rng.chance(0.1)) return b;
  const ops = 1 + rng.int(3);
  for (let i = 0; i < ops; i++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(9)) {
      case 0:
        if (b.length > 0) {
          const j = rng.int(b.length);
          b = Buffer.from(b);
          b[j] = b[j]! ^ (1 << rng.int(8));
        }
        break;
      case 1:
        b = insert(b, at, Buffer.from([rng.pick(SPECIAL)]));
        break;
      case 2:
        b = insert(b, at, Buffer.from(rng.pick(TOKENS), 'utf8'));
        break;
      case 3: {
        const len = rng.int(Math.min(12, b.length - at) + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 4: {
        const len = rng.int(Math.min(16, b.length - at) + 1);
        const piece = b.subarray(at, at + len);
        b = insert(b, at, Buffer.concat(Array.from({ length: 1 + rng.int(4) }, () => piece)));
        break;
      }
      case 5: {
        const other = rng.pick(SEEDS).split(' ');
        b = insert(b, at, Buffer.from(` ${rng.pick(other)} `, 'utf8'));
        break;
      }
      case 6:
        b = insert(b, at, rng.bytes(1 + rng.int(8)));
        break;
      case 7: {
        const depth = 1 + rng.int(80);
        b = insert(b, at, Buffer.from('('.repeat(depth) + rng.pick(TOKENS) + ')'.repeat(rng.int(depth + 2)), 'utf8'));
        break;
      }
      case 8:
        if (opts.wildcardRuns && rng.chance(0.01)) b = insert(b, at, Buffer.from(rng.pick(['%', '*', '%.', '*%']).repeat(50 + rng.int(450))));
        else if (rng.chance(0.02)) b = insert(b, at, Buffer.alloc(1024 * (1 + rng.int(80)), rng.pick(['a', '1', '(', ' ', '"'])));
        break;
    }
  }
  return b;
}
