/**
 * A small, independent MIME parser used only to check the generator's metadata:
 * it re-derives the PartMeta tree from article bytes (RFC 2045/2046 rules), so a
 * test can compare it with what the generator claims. Not a production parser:
 * it trusts the well-formed input the generator makes.
 */
import { createHash } from 'node:crypto';
import { parseHeader, splitArticle } from '../harness/article-bytes.js';
import type { PartMeta, TransferEncoding } from './mime.js';

/** Parse `type/subtype; a=b; c="d"` (folding already removed). */
export function parseContentType(value: string): { type: string; subtype: string; params: Record<string, string> } {
  const [mt, ...rest] = splitParams(value);
  const [type, subtype] = (mt ?? 'text/plain').trim().toLowerCase().split('/');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: type!, subtype: subtype!, params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted) {
      cur += c + (value[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function decodeQuotedPrintable(body: Buffer): Buffer {
  const s = body.toString('latin1').replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i));
  }
  return Buffer.from(out);
}

export function decodeBody(body: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function lines(b: Buffer): number {
  let n = 0;
  let last = 0;
  for (let at = b.indexOf('\r\n'); at >= 0; at = b.indexOf('\r\n', at + 2)) {
    n++;
    last = at + 2;
  }
  return last < b.length ? n + 1 : n;
}

/** Split a multipart body into its parts' bytes (each part: headers, CRLF, body). */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const starts: number[] = [];
  let closeAt = -1;
  for (let at = body.indexOf(delim); at >= 0; at = body.indexOf(delim, at + 1)) {
    if (at !== 0 && !(body[at - 2] === 0x0d && body[at - 1] === 0x0a)) continue;
    const after = at + delim.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) {
      closeAt = at;
      break;
    }
    starts.push(at);
  }
  if (closeAt < 0) throw new Error(`no close delimiter for boundary ${boundary}`);
  const parts: Buffer[] = [];
  starts.forEach((s, i) => {
    const contentStart = body.indexOf('\r\n', s) + 2;
    const next = i + 1 < starts.length ? starts[i + 1]! : closeAt;
    parts.push(body.subarray(contentStart, next - 2));
  });
  return parts;
}

/** Re-derive the PartMeta tree of an entity (an article or a body part). */
export function parseEntity(entity: Buffer, section: string, messageRoot: boolean): PartMeta {
  let header: Buffer;
  let body: Buffer;
  if (entity.subarray(0, 2).toString('latin1') === '\r\n') {
    header = Buffer.from('\r\n');
    body = entity.subarray(2);
  } else {
    ({ header, body } = splitArticle(entity));
  }
  const fields = parseHeader(header);
  const get = (n: string): string | undefined => fields.find((f) => f.name.toLowerCase() === n)?.value.replace(/\r\n(?=[ \t])/g, '');
  const ctRaw = get('content-type');
  const ct = ctRaw ? parseContentType(ctRaw) : { type: 'text', subtype: 'plain', params: {} };
  const encoding = (get('content-transfer-encoding')?.trim().toLowerCase() ?? '7bit') as TransferEncoding;
  const meta: PartMeta = { section, type: ct.type, subtype: ct.subtype, params: ct.params, encoding, bodyOctets: body.length };
  const disp = get('content-disposition');
  if (disp) {
    const d = parseContentType(`${disp.split(';')[0]!.trim()}/x;${disp.split(';').slice(1).join(';')}`);
    meta.disposition = d.type as 'inline' | 'attachment';
    if (d.params['filename']) meta.filename = d.params['filename'];
  }
  const cid = get('content-id');
  if (cid) meta.id = cid.trim();
  if (ct.type === 'multipart') {
    meta.children = splitMultipart(body, ct.params['boundary']!).map((p, i) => parseEntity(p, section === '' ? String(i + 1) : `${section}.${i + 1}`, false));
    return meta;
  }
  if (messageRoot) meta.section = section === '' ? '1' : `${section}.1`;
  if (ct.type === 'message' && ct.subtype === 'rfc822') {
    meta.bodyLines = lines(body);
    meta.children = [parseEntity(body, section, true)];
    return meta;
  }
  if (ct.type === 'text') meta.bodyLines = lines(body);
  const decoded = decodeBody(body, encoding);
  meta.decodedSize = decoded.length;
  meta.decodedSha256 = createHash('sha256').update(decoded).digest('hex');
  return meta;
}

/** Decoded text of all text/* leaves of an article, concatenated (for word checks). */
export function decodedText(entity: Buffer, charsetOf: (params: Record<string, string>) => BufferEncoding): string {
  const out: string[] = [];
  const walk = (e: Buffer): void => {
    const { header, body } = e.subarray(0, 2).toString('latin1') === '\r\n' ? { header: Buffer.from('\r\n'), body: e.subarray(2) } : splitArticle(e);
    const fields = parseHeader(header);
    const get = (n: string): string | undefined => fields.find((f) => f.name.toLowerCase() === n)?.value.replace(/\r\n(?=[ \t])/g, '');
    const ctRaw = get('content-type');
    const ct = ctRaw ? parseContentType(ctRaw) : { type: 'text', subtype: 'plain', params: {} };
    if (ct.type === 'multipart') splitMultipart(body, ct.params['boundary']!).forEach(walk);
    else if (ct.type === 'message') walk(body);
    else if (ct.type === 'text') out.push(decodeBody(body, get('content-transfer-encoding')?.trim().toLowerCase() ?? '7bit').toString(charsetOf(ct.params)));
  };
  walk(entity);
  return out.join('\n');
}
