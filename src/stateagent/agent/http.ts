/**
 * Small HTTP helpers of the agent: one error class carrying the status, body
 * reading with a size limit, JSON answers. Nothing here knows the routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { MAX_BODY_BYTES } from '../limits.js';

/** An answer other than 2xx; `code` is stable and machine-readable. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
}

/**
 * Read the whole body as UTF-8, at most `limit` bytes (MAX_BODY_BYTES unless
 * a route allows more). Throws HttpError 413 (before reading, if
 * Content-Length says so) or 400 for bytes that are not UTF-8. On 413 the
 * connection is closed after the answer (the rest of the body is not read).
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = () => new HttpError(413, 'TOO_LARGE', `body larger than ${limit} bytes`, { connection: 'close' });
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'BAD_ENCODING', 'body is not UTF-8');
  }
}

/** Parse `text` as JSON and validate it with `schema`. Throws HttpError 400. */
export function parseJson<T>(text: string, schema: z.ZodType<T>): T {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'body is not valid JSON');
  }
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new HttpError(400, 'BAD_REQUEST', `invalid body${where}: ${issue?.message ?? 'wrong shape'}`);
  }
  return r.data;
}

export function isJson(req: IncomingMessage): boolean {
  return /^application\/json\b/i.test(req.headers['content-type'] ?? '');
}
