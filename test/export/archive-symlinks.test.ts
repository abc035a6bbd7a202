/**
 * Symbolic links in an archive directory (issue 12 item 8; rule in README.md,
 * "Archive format"): a link is followed only when what it finally points to is
 * inside the archive root, and a directory is never entered again below itself
 * (device + inode), so loops add no group and nothing outside the root is served.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { silentLogger } from '../../src/util/log.js';

const D = new Date(Date.UTC(2024, 0, 1));
function mbox(id: string, body: string): Buffer {
  const a = Buffer.from(`From: a@b\r\nSubject: s\r\nMessage-ID: ${id}\r\n\r\n${body}`, 'latin1');
  return formatMboxrdMessage(a, 'x@y', D);
}
async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

let top: string;
let root: string;
let outside: string;
let src: ArchiveSource;
beforeEach(async () => {
  top = await mkdtemp(join(tmpdir(), 'nf-archive-links-'));
  root = join(top, 'archive');
  outside = join(top, 'elsewhere');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(join(outside, 'dir'), { recursive: true });
  await writeFile(join(root, 'top.mbox'), mbox('<top@x>', 'top\r\n'));
  await writeFile(join(root, 'sub', 'inner.mbox'), mbox('<inner@x>', 'inner\r\n'));
  await writeFile(join(outside, 'secret.mbox'), mbox('<secret@x>', 'secret\r\n'));
  await writeFile(join(outside, 'dir', 'hidden.mbox'), mbox('<hidden@x>', 'hidden\r\n'));
  src = new ArchiveSource({ dir: root, logger: silentLogger() });
});
afterEach(async () => {
  await src.close();
  await rm(top, { recursive: true, force: true });
});

const names = async (): Promise<string[]> => (await src.listGroups()).map((g) => g.name).sort();

describe('ArchiveSource and symbolic links', () => {
  it('cuts directory loops: a link to the directory itself or to an ancestor adds no group', async () => {
    await symlink('.', join(root, 'self'));
    await symlink('..', join(root, 'sub', 'loop'));
    await symlink(root, join(root, 'sub', 'abs'));
    expect(await names()).toEqual(['sub.inner', 'top']);
  });

  it('cuts a loop through two directories linking to each other, each still reachable under both names', async () => {
    await mkdir(join(root, 'b'));
    await writeFile(join(root, 'b', 'bee.mbox'), mbox('<bee@x>', 'bee\r\n'));
    await symlink('../b', join(root, 'sub', 'toB'));
    await symlink('../sub', join(root, 'b', 'toSub'));
    expect(await names()).toEqual(['b.bee', 'b.toSub.inner', 'sub.inner', 'sub.toB.bee', 'top']);
  });

  it('applies the rule to the resolved root when the configured root is itself a link', async () => {
    await symlink('.', join(root, 'self'));
    await symlink(join(outside, 'secret.mbox'), join(root, 'leak.mbox'));
    await symlink('sub/inner.mbox', join(root, 'alias.mbox'));
    await symlink(root, join(top, 'via-link'));
    const viaLink = new ArchiveSource({ dir: join(top, 'via-link'), logger: silentLogger() });
    try {
      expect((await viaLink.listGroups()).map((g) => g.name).sort()).toEqual(['alias', 'sub.inner', 'top']);
      expect((await readAll(await viaLink.article('alias', 1))).toString()).toContain('<inner@x>');
    } finally {
      await viaLink.close();
    }
  });

  it('serves nothing a link points to outside the root (file, directory, or through a chain of links)', async () => {
    await symlink(join(outside, 'secret.mbox'), join(root, 'leak.mbox'));
    await symlink('../elsewhere/secret.mbox', join(root, 'sub', 'rel.mbox'));
    await symlink(join(outside, 'dir'), join(root, 'ext'));
    await symlink(join(outside, 'secret.mbox'), join(root, '.hop'));
    await symlink('.hop', join(root, 'chain.mbox'));
    expect(await names()).toEqual(['sub.inner', 'top']);
    await expect(src.groupInfo('leak')).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    await expect(src.article('ext.hidden', 1)).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
  });

  it('follows links that stay inside the root, to files and to directories', async () => {
    await mkdir(join(root, '.store'));
    await writeFile(join(root, '.store', 'kept.mbox'), mbox('<kept@x>', 'kept\r\n'));
    await symlink('.store/kept.mbox', join(root, 'linked.mbox'));
    await symlink('sub', join(root, 'mirror'));
    await symlink('../top.mbox', join(root, 'sub', 'again.mbox'));
    expect(await names()).toEqual(['linked', 'mirror.again', 'mirror.inner', 'sub.again', 'sub.inner', 'top']);
    expect((await readAll(await src.article('linked', 1))).toString()).toContain('kept');
    expect((await readAll(await src.article('mirror.inner', 1))).toString()).toContain('inner');
    expect((await readAll(await src.article('sub.again', 1))).toString()).toContain('<top@x>');
  });
});
