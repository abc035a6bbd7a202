/**
 * A real HAProxy (Debian `haproxy`, installed through apt.ts when missing) in
 * front of newsfront front-ends, as docs/deploy.md sets it up: mode tcp, one
 * `send-proxy-v2` backend per frontend, health checks. It runs as a child
 * (`haproxy -db`) with a generated config on free loopback ports, and is
 * stopped by PID.
 *
 *     const lb = await startHaproxy(dir, [{ name: 'imap', servers: [{ name: 'fe1', port }], check: { kind: 'imap' } }]);
 *     lb.port('imap');                // where clients connect
 *     await lb.waitUp();              // every server UP in HAProxy's own view
 *     (await lb.servers()).get('imap/fe1');   // { status: 'UP', check: 'L7OK', sessions: 0 }
 *     await lb.stop();                // SIGTERM (SIGKILL after 5 s), resolves once it exited
 *
 * Checks: `imap` opens the IMAP port (HAProxy sends a PROXY v2 LOCAL header
 * first) and expects `* OK`; `http-ready` asks `GET /ready` on each server's
 * `checkPort` (the operations listener) and expects 200. Every backend has
 * `option redispatch` and `retries 3`: a connection to a server that died
 * before its checks noticed goes to another one.
 *
 * Ownership: the caller stops it; `dir` (config, admin socket) stays the
 * caller's. Errors carry HAProxy's recent output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ensureAptPackages } from './apt.js';
import { freePort } from './inn-tools.js';

export const HAPROXY = '/usr/sbin/haproxy';
/** An apt install on a loaded machine: callers give their beforeAll this much. */
export const HAPROXY_INSTALL_TIMEOUT_MS = 15 * 60_000;
const OUTPUT_TAIL_CHARS = 8000;
const STOP_GRACE_MS = 5_000;

export interface HaproxyServer {
  name: string;
  port: number;
  /** Port of the server's operations listener, for `http-ready` checks. */
  checkPort?: number;
}

export interface HaproxyFrontend {
  /** Names the frontend and its backend (`show stat` rows are `<name>/<server>`). */
  name: string;
  /** Default `roundrobin`; `source` adds `hash-type consistent`. */
  balance?: 'roundrobin' | 'source';
  servers: HaproxyServer[];
  check: { kind: 'imap' } | { kind: 'http-ready' };
  /** Check interval (default 300 ms); a server is down after `fall` (default 2) failed checks. */
  interMs?: number;
  fall?: number;
}

export interface ServerState {
  /** UP, DOWN, MAINT, … (HAProxy's `status`). */
  status: string;
  /** Last check result, e.g. L7OK, L4CON (HAProxy's `* ` prefix for a check in progress dropped). */
  check: string;
  /** Sessions open to the server now (`scur`). */
  sessions: number;
}

export interface Haproxy {
  readonly pid: number;
  /** The listening port of frontend `name`. */
  port(name: string): number;
  /** Every server's state (runtime API `show stat`), keyed `frontend/server`. */
  servers(): Promise<Map<string, ServerState>>;
  /** Resolves once every server (or those named, `frontend/server`) is UP; rejects after `ms`. */
  waitUp(names?: readonly string[], ms?: number): Promise<void>;
  /** HAProxy's recent stdout and stderr. */
  readonly output: string;
  stop(): Promise<void>;
}

/** Installs Debian `haproxy` when missing (apt.ts; needs root then). */
export async function ensureHaproxy(): Promise<void> {
  await ensureAptPackages([{ name: 'haproxy', provides: HAPROXY }], { installArgs: ['--no-install-recommends'] });
}

function backendLines(f: HaproxyFrontend): string[] {
  const inter = `inter ${f.interMs ?? 300}ms fall ${f.fall ?? 2} rise 1`;
  const check = f.check.kind === 'imap'
    ? ['  option tcp-check', '  tcp-check expect rstring ^\\*\\ OK']
    : ['  option httpchk GET /ready', '  http-check expect status 200'];
  const servers = f.servers.map((s) => {
    if (f.check.kind === 'http-ready' && s.checkPort === undefined) throw new Error(`haproxy: server ${s.name} needs checkPort for http-ready checks`);
    const port = f.check.kind === 'http-ready' ? ` port ${s.checkPort}` : '';
    return `  server ${s.name} 127.0.0.1:${s.port} send-proxy-v2 check${port} ${inter}`;
  });
  return [
    `backend ${f.name}`,
    `  balance ${f.balance ?? 'roundrobin'}`,
    ...(f.balance === 'source' ? ['  hash-type consistent'] : []),
    '  option redispatch',
    '  retries 3',
    ...check,
    ...servers,
  ];
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** Starts HAProxy with these frontends (config and admin socket in `dir`); resolves once every frontend listens. */
export async function startHaproxy(dir: string, frontends: readonly HaproxyFrontend[]): Promise<Haproxy> {
  await ensureHaproxy();
  const ports = new Map<string, number>();
  for (const f of frontends) ports.set(f.name, await freePort());
  const admin = join(dir, 'haproxy-admin.sock');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 500',
      `  stats socket ${admin} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 2m',
      '  timeout server 2m',
      '  timeout check 2s',
      ...frontends.flatMap((f) => [`frontend ${f.name}-in`, `  bind 127.0.0.1:${ports.get(f.name)}`, `  default_backend ${f.name}`, ...backendLines(f)]),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const until = async (what: string, pred: () => Promise<boolean>, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await pred())) {
      if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}) while waiting for ${what}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; haproxy said:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<void> => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, 'SIGTERM');
    const killer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  };
  const servers = async (): Promise<Map<string, ServerState>> => {
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(admin);
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.end('show stat\n');
    });
    const [head, ...rows] = text.trim().split('\n');
    const cols = head!.replace(/^# /, '').split(',');
    const at = (r: string[], name: string): string => r[cols.indexOf(name)] ?? '';
    const out = new Map<string, ServerState>();
    for (const r of rows.map((l) => l.split(','))) {
      const sv = at(r, 'svname');
      if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
      out.set(`${at(r, 'pxname')}/${sv}`, { status: at(r, 'status'), check: at(r, 'check_status').replace(/^\* /, ''), sessions: Number(at(r, 'scur')) });
    }
    return out;
  };

  try {
    for (const [name, port] of ports) await until(`haproxy frontend ${name} to listen`, () => listening(port), 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid!,
    port(name) {
      const p = ports.get(name);
      if (p === undefined) throw new Error(`haproxy: no frontend ${name}`);
      return p;
    },
    servers,
    async waitUp(names, ms = 30_000) {
      await until('every server UP', async () => {
        const all = await servers().catch(() => new Map<string, ServerState>());
        const want = names ?? [...all.keys()];
        return all.size > 0 && want.every((n) => all.get(n)?.status === 'UP');
      }, ms);
    },
    get output() {
      return output;
    },
    stop,
  };
}
