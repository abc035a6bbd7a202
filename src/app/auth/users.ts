/**
 * The users file: one `name:{SCHEME}secret` per line; `#` starts a comment.
 *
 *   alice:{SCRYPT}16384:8:1:<salt base64>:<key base64>
 *   test:{PLAIN}secret            (for tests only)
 *
 * `hashPassword` produces the SCRYPT form (`newsfront passwd NAME`).
 * A file that cannot be read or has a bad line is a `UsersFileError` whose
 * message is one line naming the file (and the line: `FILE:3: …`).
 * `verify` runs in constant time with respect to the secret and takes the same
 * path for unknown users, so response timing does not reveal which names exist.
 * scrypt runs asynchronously on the libuv thread pool, never on the main
 * thread; how many run at once is bounded by the caller (guard.ts).
 */
import { readFileSync } from 'node:fs';
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });

/** scrypt cost parameters for new hashes: N=2^14, r=8, p=1 (≈16 MiB, ~50 ms here). */
const DEFAULT_N = 16384;
const DEFAULT_R = 8;
const DEFAULT_P = 1;
const KEY_LENGTH = 32;

export class UsersFileError extends Error {
  readonly code = 'USERS_FILE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsersFileError';
  }
}

type Secret =
  | { scheme: 'PLAIN'; value: Buffer }
  | { scheme: 'SCRYPT'; n: number; r: number; p: number; salt: Buffer; key: Buffer };

function parseSecret(text: string, where: string): Secret {
  const m = /^\{([A-Z0-9-]+)\}(.*)$/.exec(text);
  if (!m) throw new UsersFileError(`${where}: secret must start with {PLAIN} or {SCRYPT}`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'PLAIN') return { scheme, value: Buffer.from(rest, 'utf8') };
  if (scheme === 'SCRYPT') {
    const f = rest.split(':');
    const [n, r, p] = f.slice(0, 3).map(Number) as [number, number, number];
    if (f.length !== 5 || ![n, r, p].every((x) => Number.isInteger(x) && x > 0)) {
      throw new UsersFileError(`${where}: {SCRYPT} secret must be N:r:p:salt:key`);
    }
    return { scheme, n, r, p, salt: Buffer.from(f[3]!, 'base64'), key: Buffer.from(f[4]!, 'base64') };
  }
  throw new UsersFileError(`${where}: unknown scheme {${scheme}} (use PLAIN or SCRYPT)`);
}

export class Users {
  private constructor(private readonly entries: ReadonlyMap<string, Secret>) {}

  static parse(text: string, origin = 'users'): Users {
    const map = new Map<string, Secret>();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `${origin}:${i + 1}`;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new UsersFileError(`${where}: expected name:{SCHEME}secret`);
      const name = line.slice(0, colon);
      if (map.has(name)) throw new UsersFileError(`${where}: user ${name} listed twice`);
      map.set(name, parseSecret(line.slice(colon + 1), where));
    });
    return new Users(map);
  }

  static load(file: string): Users {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsersFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    return Users.parse(text, file);
  }

  get size(): number {
    return this.entries.size;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** True when `password` is right for `name`. Unknown names cost the same as known ones. */
  async verify(name: string, password: string): Promise<boolean> {
    const secret = this.entries.get(name);
    if (!secret) {
      await scrypt(password, DUMMY_SALT, KEY_LENGTH, { N: DEFAULT_N, r: DEFAULT_R, p: DEFAULT_P, maxmem: 64 << 20 });
      return false;
    }
    if (secret.scheme === 'PLAIN') {
      const given = Buffer.from(password, 'utf8');
      return given.length === secret.value.length && timingSafeEqual(given, secret.value);
    }
    const key = await scrypt(password, secret.salt, secret.key.length, {
      N: secret.n, r: secret.r, p: secret.p, maxmem: 256 * secret.n * secret.r + (16 << 20),
    });
    return key.length === secret.key.length && timingSafeEqual(key, secret.key);
  }
}

const DUMMY_SALT = randomBytes(16);

/** The users-file line for `name` with a fresh salt: `name:{SCRYPT}N:r:p:salt:key`. */
export async function hashPassword(name: string, password: string): Promise<string> {
  if (!/^[^\s:]+$/.test(name)) throw new UsersFileError('user name must be non-empty, without spaces or ":"');
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { N: DEFAULT_N, r: DEFAULT_R, p: DEFAULT_P, maxmem: 64 << 20 });
  return `${name}:{SCRYPT}${DEFAULT_N}:${DEFAULT_R}:${DEFAULT_P}:${salt.toString('base64')}:${key.toString('base64')}`;
}
