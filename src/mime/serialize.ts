/**
 * JSON form of a MimePart tree, for caches (LMDB values, files). Buffers become
 * `{"$b": "<base64>"}`; everything else is plain JSON. `deserializeStructure`
 * checks the shape it restores and throws MimeError BAD_CACHE for anything else
 * (a cache written by another version, a truncated value): re-parse then.
 */
import { MimeError } from './errors.js';
import type { MimePart } from './part.js';

/** Version tag of the serialised form; bump when MimePart changes shape. */
export const STRUCTURE_FORMAT = 1;

export function serializeStructure(root: MimePart): string {
  return JSON.stringify({ v: STRUCTURE_FORMAT, root }, function (this: Record<string, unknown>, key: string, value: unknown) {
    const orig = this[key];
    if (Buffer.isBuffer(orig)) return { $b: orig.toString('base64') };
    return value;
  });
}

function isPart(x: unknown): x is MimePart {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  return (
    typeof p.type === 'string' &&
    typeof p.subtype === 'string' &&
    Array.isArray(p.params) &&
    typeof p.encoding === 'string' &&
    typeof p.headerStart === 'number' &&
    typeof p.bodyStart === 'number' &&
    typeof p.bodyEnd === 'number' &&
    typeof p.size === 'number' &&
    typeof p.lines === 'number'
  );
}

function check(p: unknown, depth: number): void {
  if (depth > 1000 || !isPart(p)) throw new MimeError('BAD_CACHE', 'cached structure has an unexpected shape');
  if (p.parts !== undefined) {
    if (!Array.isArray(p.parts)) throw new MimeError('BAD_CACHE', 'cached structure has an unexpected shape');
    for (const c of p.parts) check(c, depth + 1);
  }
  if (p.message !== undefined) check(p.message.body, depth + 1);
}

export function deserializeStructure(json: string): MimePart {
  let doc: unknown;
  try {
    doc = JSON.parse(json, (_key, value: unknown) => {
      if (typeof value === 'object' && value !== null && typeof (value as { $b?: unknown }).$b === 'string' && Object.keys(value).length === 1) {
        return Buffer.from((value as { $b: string }).$b, 'base64');
      }
      return value;
    });
  } catch (err) {
    throw new MimeError('BAD_CACHE', 'cached structure is not JSON', { cause: err });
  }
  const d = doc as { v?: unknown; root?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.v !== STRUCTURE_FORMAT) throw new MimeError('BAD_CACHE', 'cached structure has another format version');
  check(d.root, 0);
  return d.root as MimePart;
}
