import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, Users, UsersFileError } from '../../src/app/auth/users.js';

describe('users file', () => {
  it('verifies SCRYPT lines made by hashPassword, and PLAIN lines', async () => {
    const line = await hashPassword('alice', 'correct horse');
    expect(line).toMatch(/^alice:\{SCRYPT\}16384:8:1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    const users = Users.parse(`# comment\n${line}\nbob:{PLAIN}pw\n\n`);
    expect(users.size).toBe(2);
    expect(await users.verify('alice', 'correct horse')).toBe(true);
    expect(await users.verify('alice', 'correct horse ')).toBe(false);
    expect(await users.verify('bob', 'pw')).toBe(true);
    expect(await users.verify('bob', 'PW')).toBe(false);
    expect(await users.verify('nobody', 'pw')).toBe(false);
  });

  it('two hashes of one password differ (fresh salt)', async () => {
    expect(await hashPassword('a', 'x')).not.toBe(await hashPassword('a', 'x'));
  });

  it('rejects malformed lines with the line number', () => {
    expect(() => Users.parse('alice')).toThrow(/users:1: expected name/);
    expect(() => Users.parse('ok:{PLAIN}x\nalice:{MD5}abc')).toThrow(/users:2: unknown scheme \{MD5\}/);
    expect(() => Users.parse('alice:{SCRYPT}1:2')).toThrow(UsersFileError);
    expect(() => Users.parse('a:{PLAIN}x\na:{PLAIN}y')).toThrow(/listed twice/);
  });

  it('load: an unreadable file is one line naming it; a bad line names file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-users-'));
    try {
      const missing = join(dir, 'missing');
      expect(() => Users.load(missing)).toThrow(new UsersFileError(`cannot read ${missing}: ENOENT`));
      writeFileSync(join(dir, 'users'), 'a:{PLAIN}x\r\n\r\nb:nobrace\r\n');
      expect(() => Users.load(join(dir, 'users'))).toThrow(new UsersFileError(`${join(dir, 'users')}:3: secret must start with {PLAIN} or {SCRYPT}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses names that cannot be written to the file', async () => {
    await expect(hashPassword('has space', 'x')).rejects.toThrow(UsersFileError);
    await expect(hashPassword('co:lon', 'x')).rejects.toThrow(UsersFileError);
  });
});
