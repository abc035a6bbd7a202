/**
 * Process and file helpers for the private INN harness: running INN's tools with
 * a private INNCONF, the news user's ids, ownership, a free loopback port, and
 * reading articles back exactly as INN stored them (grephistory + `sm -R`).
 */
import { spawn } from 'node:child_process';
import { chown, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { undotStuff } from './article-bytes.js';
import { INN_BIN_DIR } from './install-inn.js';

/** Tokens per `sm -R` call (keeps the argument list far below ARG_MAX). */
const SM_BATCH = 500;
const WIRE_END = Buffer.from('\r\n.\r\n');

export class InnToolError extends Error {
  readonly code: 'NO_NEWS_USER' | 'NOT_FOUND' | 'TOOL_FAILED';
  constructor(code: InnToolError['code'], message: string) {
    super(message);
    this.name = 'InnToolError';
    this.code = code;
  }
}

export interface RunOutput {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run a program, collecting stdout (bytes) and stderr (text). Never rejects on exit status. */
export function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }, input?: Buffer): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], ...(ids ?? {}) });
    if (input) child.stdin?.end(input);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString('latin1');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

export function newsIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('news:'));
  if (!line) throw new InnToolError('NO_NEWS_USER', 'no "news" user in /etc/passwd (is inn2 installed?)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const e of await readdir(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

/** A port free at this moment on 127.0.0.1 (innd binds it a few ms later; start retries on a clash). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}


/**
 * The articles with these Message-IDs exactly as INN stores them (wire format
 * undone), in the same order, using the instance's INNCONF in `env`. Two tool runs
 * per 500 articles. Throws NOT_FOUND naming the first Message-ID INN lacks.
 */
export async function readStoredArticles(env: NodeJS.ProcessEnv, messageIds: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < messageIds.length; i += SM_BATCH) {
    const ids = messageIds.slice(i, i + SM_BATCH);
    const h = await runTool(join(INN_BIN_DIR, 'grephistory'), ['-s'], env, undefined, Buffer.from(ids.map((id) => `${id}\n`).join(''), 'utf8'));
    const tokens = h.stdout.toString('latin1').split('\n').filter((t) => t.startsWith('@'));
    if (tokens.length !== ids.length) {
      // -s skips missing articles silently: find the first one to name it.
      for (const id of ids) {
        const one = await runTool(join(INN_BIN_DIR, 'grephistory'), ['-e', id], env);
        if (!one.stdout.toString('latin1').trim().startsWith('@')) throw new InnToolError('NOT_FOUND', `INN does not store ${id}`);
      }
      throw new InnToolError('TOOL_FAILED', `grephistory -s gave ${tokens.length} tokens for ${ids.length} ids: ${h.stderr}`);
    }
    const sm = await runTool(join(INN_BIN_DIR, 'sm'), ['-R', ...tokens], env);
    if (sm.code !== 0) throw new InnToolError('TOOL_FAILED', `sm -R failed (exit ${sm.code}): ${sm.stderr.trim()}`);
    // Each article ends with CRLF . CRLF; a "." line inside is stuffed to "..", so the
    // first CRLF . CRLF after an article's start is its end.
    let pos = 0;
    for (const id of ids) {
      const end = sm.stdout.indexOf(WIRE_END, pos);
      if (end < 0) throw new InnToolError('TOOL_FAILED', `sm -R output ends early, before ${id}`);
      out.push(undotStuff(sm.stdout.subarray(pos, end + WIRE_END.length)));
      pos = end + WIRE_END.length;
    }
    if (pos !== sm.stdout.length) throw new InnToolError('TOOL_FAILED', `sm -R printed ${sm.stdout.length - pos} unexpected trailing bytes`);
  }
  return out;
}
