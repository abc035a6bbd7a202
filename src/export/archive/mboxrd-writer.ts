/**
 * Writing mboxrd (the inverse of ./scan.ts + ./unquote.ts), for the sample
 * archive generator and for tests.
 *
 * Each message: a `From <sender> <asctime>` line, the article with CRLF turned
 * into LF and every line matching `^>*From ` given one more `>`, then one empty
 * line. Reading it back gives the article bytes exactly, provided the article's
 * lines all end in CRLF (a bare LF inside a line would come back as CRLF).
 * Works on bytes (Latin-1 strings map bytes 1:1), so 8-bit articles survive.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Mon Jan  1 00:00:00 2024` in UTC (asctime, as mbox From_ lines use). */
export function asctime(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(
    d.getUTCMinutes(),
  )}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** One article as an mboxrd message (From_ line … trailing empty line). */
export function formatMboxrdMessage(article: Buffer, sender: string, date: Date): Buffer {
  let text = article.toString('latin1');
  if (!text.endsWith('\n')) text += '\n';
  const body = text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .map((l) => (/^>*From /.test(l) ? `>${l}` : l))
    .join('\n');
  // `body` ends with '\n' (split left an empty last element); add the separating blank line.
  return Buffer.from(`From ${sender.replace(/\s/g, '') || 'MAILER-DAEMON'} ${asctime(date)}\n${body}\n`, 'latin1');
}
