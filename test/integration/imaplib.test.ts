/**
 * A second, unrelated IMAP client: Python's imaplib (python3 is on every
 * machine here) runs `test/clients/imaplib_session.py` against newsfront over
 * INN, and the answers are checked against the corpus.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack.js';

const GROUPS = ['py.test.one', 'py.test.two'];

function runPython(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('Python imaplib against newsfront over INN', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 9, groups: GROUPS, perGroup: 15 }, users: { carol: 'pw' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('logs in, lists, selects, fetches exact sizes, stores a session flag, is refused EXPUNGE and CREATE', async () => {
    const group = GROUPS[1]!;
    // Asynchronous spawn: the server runs in this process and must keep serving.
    const r = await runPython([fileURLToPath(new URL('../clients/imaplib_session.py', import.meta.url)), String(stack.nf.port), 'carol', 'pw', group]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out.login).toBe('OK');
    expect(out.capabilities).toContain('IMAP4REV1');
    for (const g of GROUPS) expect(out.list.some((l: string) => l.endsWith(` ${g}`) || l.endsWith(` "${g}"`))).toBe(true);
    const articles = stack.byGroup.get(group)!;
    expect(out.select).toEqual(['OK', articles.length]);
    const sizes = out.sizes as Record<string, number>;
    expect(Object.keys(sizes).map(Number)).toEqual(articles.map((_, i) => i + 1));
    for (const [uid, size] of Object.entries(sizes)) {
      const stored = await stack.inn.storedArticle(articles[Number(uid) - 1]!.messageId);
      expect(size).toBe(stored.length);
    }
    expect(out.body_len).toBe(sizes['1']);
    expect(out.store).toBe('OK');
    expect(out.search_flagged).toBe('1');
    expect(out.expunge_nothing).toBe('OK');
    expect(out.expunge[0]).toBe('NO');
    expect(out.expunge[1]).toMatch(/^\[CANNOT\]/);
    expect(out.create[0]).toBe('NO');
    expect(out.create[1]).toMatch(/^\[NOPERM\]/);
    expect(out.append[0]).toBe('NO');
    expect(out.append[1]).toMatch(/^\[CANNOT\]/);
    expect(out.noop).toBe('OK');
  });
});
