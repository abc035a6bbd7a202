/**
 * Writing one FETCH response whose items include article bytes
 * (commands/fetch.ts `writeMessage`, fetch/bodies.ts for a message whose
 * bytes are not at hand):
 *
 *   S: * 7 FETCH (UID 12 BODY[] {2301}
 *   S: <2301 octets>)
 *
 * Contract: every body is opened before the first byte of the response is
 * queued, so an article that vanished (or fails to open) costs no half
 * response; an opened stream or ByteSource is closed here, also on failure.
 */
import type { CommandContext } from '../command.js';
import type { Chunk } from '../wire/writer.js';
import type { BodyData, BodySource } from './body.js';

/** A part of a response: protocol text, or a body item's data. */
export type ResponsePart = Chunk | BodyData;

export function isBodyData(p: ResponsePart): p is BodyData {
  return typeof p === 'object' && !Buffer.isBuffer(p);
}

/**
 * Writes `open` (`* N FETCH (`), the parts and `)\r\n`. `opened[i]`, when
 * given, is what `parts[i].open()` already returned (a caller that looked at
 * the bytes first); the others are opened here.
 */
export async function sendParts(
  ctx: CommandContext,
  open: string,
  parts: readonly ResponsePart[],
  opened: Array<Buffer | Promise<BodySource> | BodySource | undefined> = [],
): Promise<void> {
  const got: Array<BodySource | undefined> = [];
  try {
    let inMemory = true;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (!isBodyData(p) || p.kind !== 'stream') {
        got.push(undefined);
        continue;
      }
      const o = opened[i] ?? p.open();
      opened[i] = undefined;
      const b = o instanceof Promise ? await o : o;
      got.push(b);
      if (!Buffer.isBuffer(b) || b.length !== p.size) inMemory = false;
    }
    if (inMemory) {
      // every body at hand (cached short articles): the whole response in one write
      await ctx.write(...inOneWrite(open, parts, got));
      return;
    }
    let run: Chunk[] = [open];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (!isBodyData(p)) run.push(p);
      else if (p.kind === 'nil') run.push('NIL');
      else {
        await ctx.write(...run);
        run = [];
        if (p.kind === 'bytes') await ctx.literal(p.bytes.length, p.bytes, p.binary && p.bytes.includes(0));
        else await ctx.literal(p.size, got[i]!, p.binary);
      }
    }
    run.push(')\r\n');
    await ctx.write(...run);
  } finally {
    // sources opened by the caller but never reached (an earlier one failed) are closed too
    for (const o of opened) {
      if (o instanceof Promise) o.then(closeSource, () => undefined);
      else closeSource(o);
    }
    for (const s of got) closeSource(s);
  }
}

function closeSource(s: BodySource | undefined): void {
  if (s === undefined || Buffer.isBuffer(s)) return;
  if ('destroy' in s) s.destroy();
  else s.close();
}

/** Literal heads of a FETCH response whose bodies are all Buffers of their announced size. */
function inOneWrite(open: string, parts: readonly ResponsePart[], opened: ReadonlyArray<BodySource | undefined>): Chunk[] {
  const out: Chunk[] = [open];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!isBodyData(p)) out.push(p);
    else if (p.kind === 'nil') out.push('NIL');
    else {
      const b = p.kind === 'bytes' ? p.bytes : (opened[i] as Buffer);
      const tilde = p.kind === 'bytes' ? p.binary && b.includes(0) : p.binary;
      out.push(tilde ? `~{${b.length}}\r\n` : `{${b.length}}\r\n`, b);
    }
  }
  out.push(')\r\n');
  return out;
}
