/**
 * Reading and touching the Maildir folders that mbsync and offlineimap write,
 * as the client suites need it. Both put the IMAP UID in the file name
 * (`…,U=<uid>:2,<flags>` for mbsync with the default `AltMap no`,
 * `…,U=<uid>,FMD5=<hex>:2,<flags>` for offlineimap) and the Maildir flags after
 * `:2,` (S seen, F flagged, R replied, T trashed, D draft).
 */
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface MaildirMessage {
  uid: number;
  /** `new` or `cur`. */
  sub: 'new' | 'cur';
  path: string;
  /** Maildir info flags, e.g. "FS". */
  flags: string;
}

const UID_IN_NAME = /[,.]U=(\d+)[,:]/;

/** Every message of one Maildir folder by UID. Throws if two files claim one UID or a name has no UID. */
export function readMaildir(folder: string): Map<number, MaildirMessage> {
  const out = new Map<number, MaildirMessage>();
  for (const sub of ['new', 'cur'] as const) {
    for (const name of readdirSync(join(folder, sub))) {
      const m = UID_IN_NAME.exec(name);
      if (!m) throw new Error(`maildir: no UID in file name ${sub}/${name}`);
      const uid = Number(m[1]);
      if (out.has(uid)) throw new Error(`maildir: UID ${uid} twice (${out.get(uid)!.path}, ${name})`);
      const info = /:2,([A-Za-z]*)$/.exec(name);
      out.set(uid, { uid, sub, path: join(folder, sub, name), flags: info ? info[1]! : '' });
    }
  }
  return out;
}

/** Set Maildir flags on a message the way a mail reader does: move it to cur/ with `:2,<flags>`. */
export function setMaildirFlags(folder: string, msg: MaildirMessage, flags: string): string {
  const base = msg.path.slice(msg.path.lastIndexOf('/') + 1).replace(/:2,[A-Za-z]*$/, '');
  const sorted = [...new Set(flags)].sort().join('');
  const to = join(folder, 'cur', `${base}:2,${sorted}`);
  renameSync(msg.path, to);
  return to;
}

export function readBytes(path: string): Buffer {
  return readFileSync(path);
}

/**
 * mbsync 1.4 inserts one `X-TUID: <12 chars>` header line (its transaction ID,
 * used to find a message again after an interrupted run) as the last header
 * field of every message it stores. Return the bytes without it, or throw if it
 * is not there exactly once, directly before the empty line.
 */
export function withoutTuid(lf: Buffer): Buffer {
  const text = lf.toString('latin1');
  const end = text.indexOf('\n\n');
  const header = end < 0 ? text : text.slice(0, end + 1);
  const hits = [...header.matchAll(/^X-TUID: [A-Za-z0-9+/]{12}\n/gm)];
  if (hits.length !== 1) throw new Error(`expected one X-TUID header line, found ${hits.length}`);
  const at = hits[0]!.index!;
  if (end >= 0 && at + hits[0]![0].length !== end + 1) throw new Error('X-TUID is not the last header line');
  return Buffer.concat([lf.subarray(0, at), lf.subarray(at + hits[0]![0].length)]);
}
