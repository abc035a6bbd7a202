/**
 * Loading the configuration: defaults < config file < environment < CLI flags,
 * validated once against `configSchema`, then deep-frozen (STYLE §9). The
 * server (`loadConfig`) and the state agent (`loadAgentConfig`, the `agent`
 * section) share the schema, the file, the environment and the error form.
 *
 * Merge rule: objects merge key by key; arrays and scalars replace.
 *
 * Errors: every problem is a `ConfigError` (code `CONFIG`) whose message is one
 * line naming the key, e.g. `config: upstreams[0].url: expected nntp://…
 * (from --upstream)`. The CLI prints it and exits with status 2.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type ConfigInput, type FrozenConfig, type LOG_LEVELS } from './schema.js';

export const CONFIG_EXIT_CODE = 2;

export class ConfigError extends Error {
  readonly code = 'CONFIG' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** CLI flags that override the configuration (commander's parsed options). */
export interface ConfigFlags {
  config?: string;
  listen?: string;
  upstream?: string[];
  archive?: string;
  data?: string;
  uidmap?: string;
  state?: string;
  users?: string;
  logLevel?: string;
}

/** CLI flags of `newsfront agent`: `--listen`, `--data`, `--store` and `--tokens` set the `agent` section. */
export interface AgentFlags {
  config?: string;
  listen?: string;
  data?: string;
  store?: string;
  tokens?: string;
  logLevel?: string;
}

export interface LoadConfigOptions<F = ConfigFlags> {
  /** Path of a JSON config file (`--config FILE`); read synchronously. */
  file?: string;
  /** Environment (normally `process.env`); only `NEWSFRONT_*` variables are read. */
  env?: Readonly<Record<string, string | undefined>>;
  flags?: F;
}

/** What the state agent needs, validated and frozen (src/stateagent/agent/server.ts `AgentOptions`). */
export interface AgentSettings {
  readonly host: string;
  readonly port: number;
  /** LMDB data directory; null when `store` is set. */
  readonly dataDir: string | null;
  /** PostgreSQL URL of the flags (`agent.store`), or null for LMDB under `dataDir`. */
  readonly store: string | null;
  readonly tokensFile: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/** Environment variables read, and the key each sets. */
export const ENV_KEYS = {
  NEWSFRONT_LISTEN: 'listen',
  NEWSFRONT_UPSTREAM: 'upstreams',
  NEWSFRONT_ARCHIVE: 'archive',
  NEWSFRONT_DATA: 'data',
  NEWSFRONT_UIDMAP: 'uidmap',
  NEWSFRONT_STATE: 'state',
  NEWSFRONT_STATE_TOKEN: 'stateToken',
  NEWSFRONT_USERS: 'users',
  NEWSFRONT_LOG_LEVEL: 'log.level',
  NEWSFRONT_AGENT_LISTEN: 'agent.listen',
  NEWSFRONT_AGENT_DATA: 'agent.data',
  NEWSFRONT_AGENT_STORE: 'agent.store',
  NEWSFRONT_AGENT_TOKENS: 'agent.tokens',
} as const;

type Layer = { name: string; value: Record<string, unknown> };

/**
 * Build the configuration. Throws `ConfigError` (one line naming the key).
 * The returned object and everything in it is frozen.
 */
export function loadConfig(opts: LoadConfigOptions = {}): FrozenConfig {
  const layers: Layer[] = [];
  const file = opts.file ?? opts.flags?.config;
  if (file !== undefined) layers.push({ name: file, value: readConfigFile(file) });
  layers.push(...envLayers(opts.env ?? {}));
  layers.push(...flagLayers(opts.flags ?? {}));
  return validate(layers);
}

/**
 * The state agent's settings: the same layers, with the agent's flags setting
 * the `agent` section. Throws `ConfigError` like `loadConfig`, also when
 * `agent.listen` or `agent.tokens` is not set anywhere, or neither
 * `agent.data` nor `agent.store`.
 */
export function loadAgentConfig(opts: LoadConfigOptions<AgentFlags> = {}): AgentSettings {
  const layers: Layer[] = [];
  const file = opts.file ?? opts.flags?.config;
  if (file !== undefined) layers.push({ name: file, value: readConfigFile(file) });
  layers.push(...envLayers(opts.env ?? {}));
  layers.push(...agentFlagLayers(opts.flags ?? {}));
  const { agent, log } = validate(layers);
  const missing = (key: string, flag: string): ConfigError =>
    new ConfigError(`config: agent.${key}: required by the state agent (${flag}, NEWSFRONT_AGENT_${key.toUpperCase()} or "agent" in the config file)`);
  if (agent.listen === null) throw missing('listen', '--listen HOST:PORT');
  if (agent.data === null && agent.store === null) {
    throw new ConfigError('config: agent.data: required by the state agent unless agent.store is set (--data DIR or --store postgres://…, NEWSFRONT_AGENT_DATA or NEWSFRONT_AGENT_STORE, or "agent" in the config file)');
  }
  if (agent.tokens === null) throw missing('tokens', '--tokens FILE');
  return Object.freeze({
    host: agent.listen.host, port: agent.listen.port, dataDir: agent.store === null ? agent.data : null, store: agent.store,
    tokensFile: agent.tokens, logLevel: log.level,
  });
}

/**
 * A test overlay: the defaults with `partial` merged over them, validated and
 * frozen exactly like a real configuration.
 */
export function testConfig(partial: ConfigInput = {}): FrozenConfig {
  return validate([{ name: 'testConfig', value: partial as Record<string, unknown> }]);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config: ${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isPlainObject(value)) throw new ConfigError(`config: ${path}: expected a JSON object at the top level`);
  return stripComments(value);
}

/** `"$comment"` keys document config files; they are dropped before validation. */
function stripComments(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === '$comment') continue;
    out[k] = isPlainObject(val) ? stripComments(val) : Array.isArray(val) ? val.map((e) => (isPlainObject(e) ? stripComments(e) : e)) : val;
  }
  return out;
}

function envLayers(env: Readonly<Record<string, string | undefined>>): Layer[] {
  const out: Layer[] = [];
  const get = (k: keyof typeof ENV_KEYS): string | undefined => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const listen = get('NEWSFRONT_LISTEN');
  if (listen !== undefined) out.push({ name: 'NEWSFRONT_LISTEN', value: { listen: parseListen(listen, 'NEWSFRONT_LISTEN') } });
  const up = get('NEWSFRONT_UPSTREAM');
  if (up !== undefined) {
    const urls = up.split(/[\s,]+/).filter((s) => s !== '');
    out.push({ name: 'NEWSFRONT_UPSTREAM', value: { upstreams: urls.map((url) => ({ url })) } });
  }
  const scalar: [keyof typeof ENV_KEYS, string][] = [
    ['NEWSFRONT_ARCHIVE', 'archive'],
    ['NEWSFRONT_DATA', 'data'],
    ['NEWSFRONT_UIDMAP', 'uidmap'],
    ['NEWSFRONT_STATE', 'state'],
    ['NEWSFRONT_STATE_TOKEN', 'stateToken'],
    ['NEWSFRONT_USERS', 'users'],
  ];
  for (const [name, key] of scalar) {
    const v = get(name);
    if (v !== undefined) out.push({ name, value: { [key]: v } });
  }
  const level = get('NEWSFRONT_LOG_LEVEL');
  if (level !== undefined) out.push({ name: 'NEWSFRONT_LOG_LEVEL', value: { log: { level } } });
  const agentListen = get('NEWSFRONT_AGENT_LISTEN');
  if (agentListen !== undefined) {
    out.push({ name: 'NEWSFRONT_AGENT_LISTEN', value: { agent: { listen: parseListen(agentListen, 'NEWSFRONT_AGENT_LISTEN', 'agent.listen') } } });
  }
  for (const [name, key] of [['NEWSFRONT_AGENT_DATA', 'data'], ['NEWSFRONT_AGENT_STORE', 'store'], ['NEWSFRONT_AGENT_TOKENS', 'tokens']] as const) {
    const v = get(name);
    if (v !== undefined) out.push({ name, value: { agent: { [key]: v } } });
  }
  return out;
}

function agentFlagLayers(f: AgentFlags): Layer[] {
  const out: Layer[] = [];
  if (f.listen !== undefined) out.push({ name: '--listen', value: { agent: { listen: parseListen(f.listen, '--listen', 'agent.listen') } } });
  if (f.data !== undefined) out.push({ name: '--data', value: { agent: { data: f.data } } });
  if (f.store !== undefined) out.push({ name: '--store', value: { agent: { store: f.store } } });
  if (f.tokens !== undefined) out.push({ name: '--tokens', value: { agent: { tokens: f.tokens } } });
  if (f.logLevel !== undefined) out.push({ name: '--log-level', value: { log: { level: f.logLevel } } });
  return out;
}

function flagLayers(f: ConfigFlags): Layer[] {
  const out: Layer[] = [];
  if (f.listen !== undefined) out.push({ name: '--listen', value: { listen: parseListen(f.listen, '--listen') } });
  if (f.upstream !== undefined && f.upstream.length > 0) {
    out.push({ name: '--upstream', value: { upstreams: f.upstream.map((url) => ({ url })) } });
  }
  if (f.archive !== undefined) out.push({ name: '--archive', value: { archive: f.archive } });
  if (f.data !== undefined) out.push({ name: '--data', value: { data: f.data } });
  if (f.uidmap !== undefined) out.push({ name: '--uidmap', value: { uidmap: f.uidmap } });
  if (f.state !== undefined) out.push({ name: '--state', value: { state: f.state } });
  if (f.users !== undefined) out.push({ name: '--users', value: { users: f.users } });
  if (f.logLevel !== undefined) out.push({ name: '--log-level', value: { log: { level: f.logLevel } } });
  return out;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (host defaults to 127.0.0.1) for the key `key`. */
export function parseListen(s: string, origin: string, key = 'listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`config: ${key}: expected HOST:PORT, got "${s}" (from ${origin})`);
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '127.0.0.1' : m[2]);
  return { host, port };
}

function validate(layers: Layer[]): FrozenConfig {
  let merged: Record<string, unknown> = {};
  /** Which layer last set each key (every object level, as `formatPath` writes it), to say where a bad value came from. */
  const origin = new Map<string, string>();
  const note = (v: Record<string, unknown>, path: PropertyKey[], name: string): void => {
    for (const [k, child] of Object.entries(v)) {
      origin.set(formatPath([...path, k]), name);
      if (isPlainObject(child)) note(child, [...path, k], name);
    }
  };
  for (const layer of layers) {
    merged = merge(merged, layer.value);
    note(layer.value, [], layer.name);
  }
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(formatIssue(r.error.issues[0]!, origin));
  return deepFreeze(r.data);
}

/** Messages never echo an upstream URL (it may hold a password). */
function formatIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string {
  let path = issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    path = [...path, key];
    message = 'unknown key';
  }
  let from: string | undefined;
  for (let n = path.length; n > 0 && from === undefined; n--) from = origin.get(formatPath(path.slice(0, n)));
  let shown = formatPath(path);
  if (shown === '') shown = '(top level)';
  return `config: ${shown}: ${message}${from !== undefined ? ` (from ${from})` : ''}`;
}

/** `upstreams[0].url` style path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as object)) deepFreeze(child);
  }
  return v;
}
