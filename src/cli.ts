#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --v8-pool-size=1
/**
 * The `newsfront` command.
 *
 *   newsfront serve [--config FILE] [--listen HOST:PORT] [--upstream URL]...
 *                   [--archive DIR] [--data DIR] [--state session|local|URL|postgres://…]
 *                   [--users FILE] [--log-level LEVEL]
 *   newsfront ingest [same options as serve]   fill the UID map (and the search index's headers) for every group, then exit
 *   newsfront index GROUP... [same options as serve]
 *                               index these groups now (headers and every body), print rate and size per article, exit
 *   newsfront status [--config FILE] [--data DIR] [--url http://HOST:PORT] [--json]
 *                               the search index's progress per group, from a running server or the index file (src/app/status.ts)
 *   newsfront agent [--config FILE] --listen HOST:PORT (--data DIR | --store postgres://…) --tokens FILE [--log-level LEVEL]
 *                               the state agent (docs/agent-api.md); prints `listening HOST:PORT`
 *   newsfront db migrate [--config FILE] [--uidmap postgres://…] [--state postgres://…]
 *                               apply the UID map and flag schema migrations, then exit
 *   newsfront sample DIR        write the sample archive into DIR
 *
 * Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 2 for a usage or
 * configuration error (one line on stderr naming the key; also a users file,
 * archive directory or TLS file found unusable at start-up), 1 for anything
 * else (logged). `serve` starts everything through `startNewsfront` (src/app/start.ts):
 * sources, UID map, export backend, flag stores, IMAP listener; the first
 * signal closes it all in reverse order, a second one exits at once.
 */
import { Command, CommanderError } from 'commander';
import { createLogger, type Logger } from './util/log.js';
import {
  CONFIG_EXIT_CODE, ConfigError, loadAgentConfig, loadConfig, type AgentFlags, type AgentSettings, type ConfigFlags,
} from './app/config/load.js';
import { redactNntpUrl } from './nntp/index.js';
import { redactPostgresUrl } from './app/config/schema.js';
import { writeSampleArchive } from './export/sample/generate.js';
import { checkArchive, startNewsfront, type RunningNewsfront } from './app/start.js';
import { openExport } from './app/ingest.js';
import { isPostgresUrl } from './app/flagstores.js';
import { migrateSchema, postgresSchemas } from './app/db-migrate.js';
import type { FrozenConfig } from './app/config/schema.js';
import { hashPassword } from './app/auth/users.js';
import { startAgent, type RunningAgent } from './stateagent/agent/server.js';
import { TokenFileError } from './stateagent/agent/auth.js';
import { statusCommand, type StatusFlags } from './app/status.js';
import { indexNow } from './app/index-command.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** A configuration problem found at start-up (src/app/start.ts): its one line on stderr, exit 2. */
async function configFail(logger: Logger, err: ConfigError): Promise<never> {
  await flush(logger);
  fail(err.message, CONFIG_EXIT_CODE);
}

/** Load the configuration or exit 2 with its one-line message. */
function configOrExit(flags: ConfigFlags): FrozenConfig {
  try {
    return loadConfig({ env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, CONFIG_EXIT_CODE);
    throw err;
  }
}

/** `ingest`: fill the UID map for every group (what a server does lazily), then exit. */
async function ingest(flags: ConfigFlags): Promise<void> {
  const config = configOrExit(flags);
  const logger = createLogger({ level: config.log.level });
  let code = 0;
  try {
    await checkArchive(config);
    const ctx = await openExport(config, logger);
    let articles = 0;
    for (const g of ctx.groups.values()) articles += g.uidMap.count();
    logger.info({ groups: ctx.groups.size, articles }, 'ingest done');
    await ctx.close();
  } catch (err) {
    if (err instanceof ConfigError) await configFail(logger, err);
    logger.fatal({ err: (err as Error).message, code: (err as { code?: string }).code }, 'ingest failed');
    code = 1;
  }
  await flush(logger);
  process.exit(code);
}

/** `index GROUP...` (src/app/index-command.ts). Exit 0, 1 when a group fails (the others are still indexed), 2 for configuration. */
async function indexGroups(groups: string[], flags: ConfigFlags): Promise<void> {
  const config = configOrExit(flags);
  const logger = createLogger({ level: config.log.level });
  let code: number;
  try {
    code = await indexNow(config, groups, logger);
  } catch (err) {
    if (err instanceof ConfigError) await configFail(logger, err);
    logger.fatal({ err: (err as Error).message, code: (err as { code?: string }).code }, 'index failed');
    code = 1;
  }
  await flush(logger);
  process.exit(code);
}

/**
 * `db migrate`: apply the missing schema migrations (what every front-end and
 * agent also does at start) to each configured PostgreSQL database — the UID
 * map's (`uidmap`) and the flags' (`state`, or `agent.store` for the state
 * agent; one database may hold both) — printing one line per schema with its
 * version, exit 0; exit 2 when none of them is a PostgreSQL URL, 1 when a
 * database cannot be migrated (the others are still tried).
 */
async function dbMigrate(flags: ConfigFlags): Promise<void> {
  const config = configOrExit(flags);
  const targets = postgresSchemas(config);
  if (targets.length === 0) {
    fail('config: uidmap: not set, and state is not a postgres:// URL; "db migrate" needs one of them ' +
      '(--uidmap / --state, NEWSFRONT_UIDMAP / NEWSFRONT_STATE, agent.store, or the config file)', CONFIG_EXIT_CODE);
  }
  const logger = createLogger({ level: config.log.level });
  let code = 0;
  for (const t of targets) {
    try {
      const r = await migrateSchema(t, logger);
      const did = r.applied.length > 0 ? `applied ${r.applied.join(', ')}` : 'already current';
      process.stdout.write(`${t.schema} schema at version ${r.version} (${did}) in ${redactPostgresUrl(t.url)}\n`);
    } catch (err) {
      process.stderr.write(`newsfront db migrate: ${t.schema}: ${(err as Error).message}\n`);
      code = 1;
    }
  }
  await flush(logger);
  process.exit(code);
}

async function serve(flags: ConfigFlags): Promise<void> {
  const config = configOrExit(flags);
  const logger = createLogger({ level: config.log.level });
  logger.info(
    {
      listen: `${config.listen.host}:${config.listen.port}`,
      upstreams: config.upstreams.map((u) => redactNntpUrl(u.url)),
      archive: config.archive,
      data: config.data,
      uidmap: config.uidmap === null ? 'lmdb' : redactPostgresUrl(config.uidmap),
      state: /^https?:/.test(config.state) ? 'agent' : isPostgresUrl(config.state) ? redactPostgresUrl(config.state) : config.state,
    },
    'newsfront starting',
  );
  // Signals are handled from the start: one during start-up is acted on when
  // start-up returns (a second one exits at once).
  let running: RunningNewsfront | undefined;
  let stopping = false;
  const shutdown = async (): Promise<never> => {
    try {
      await running?.close();
      logger.info('stopped');
      await flush(logger);
      process.exit(0);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'error while closing');
      await flush(logger);
      process.exit(1);
    }
  };
  const onSignal = (signal: string): void => {
    if (stopping) process.exit(1); // second signal: do not wait
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (running !== undefined) void shutdown(); // else: start-up is running; shut down when it returns
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    running = await startNewsfront(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) await configFail(logger, err);
    logger.fatal({ err: (err as Error).message, code: (err as { code?: string }).code }, 'cannot start');
    await flush(logger);
    process.exit(1);
  }
  if (stopping) await shutdown();
  logger.info({ host: config.listen.host, port: running.port, tlsPort: running.tlsPort }, 'newsfront ready');
  process.stderr.write(howToConnect(config, running.port, running.demoUser));
}

/**
 * `agent`: the state agent. Logs go to stderr; once it accepts connections one
 * line `listening HOST:PORT` goes to stdout (tests and supervisors wait for it).
 * SIGINT/SIGTERM close it (exit 0, or 1 if closing fails).
 */
async function agent(flags: AgentFlags): Promise<void> {
  let settings: AgentSettings;
  try {
    settings = loadAgentConfig({ env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, CONFIG_EXIT_CODE);
    throw err;
  }
  const logger = createLogger({ level: settings.logLevel, fd: 2 });
  let running: RunningAgent;
  try {
    running = await startAgent({
      host: settings.host, port: settings.port, dataDir: settings.dataDir, store: settings.store, tokensFile: settings.tokensFile, logger,
    });
  } catch (err) {
    if (err instanceof TokenFileError) fail(`config: agent.tokens: ${err.message}`, CONFIG_EXIT_CODE);
    fail(`newsfront agent: ${(err as Error).message}`, 1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping state agent');
    running.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'state agent close failed');
      process.exit(1);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`listening ${running.host}:${running.port}\n`);
}

/** One line from stdin; on a terminal the typed characters are not echoed. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) process.stderr.write('Password: ');
  if (stdin.isTTY) stdin.setRawMode(true);
  let text = '';
  try {
    for await (const chunk of stdin) {
      text += (chunk as Buffer).toString('utf8');
      const nl = text.search(/[\r\n\u0004]/);
      if (nl >= 0) {
        text = text.slice(0, nl);
        break;
      }
    }
  } finally {
    if (stdin.isTTY) {
      stdin.setRawMode(false);
      process.stderr.write('\n');
    }
    stdin.pause();
  }
  if (text === '') throw new Error('empty password');
  return text;
}

function howToConnect(config: FrozenConfig, port: number, demo: { user: string; password: string } | undefined): string {
  const lines = [`newsfront is serving IMAP on ${config.listen.host}:${port}.`];
  if (demo) lines.push(`  demo user:  ${demo.user} / password ${demo.password}  (flags kept per session)`);
  if (config.anonymous) lines.push('  anonymous:  LOGIN anonymous <anything>, or AUTHENTICATE ANONYMOUS');
  lines.push(`  try:        python3 -c "import imaplib; M=imaplib.IMAP4('${config.listen.host}', ${port}); M.login('${demo?.user ?? 'anonymous'}', '${demo?.password ?? 'x'}'); print(M.list())"`);
  return `${lines.join('\n')}\n`;
}

function flush(logger: Logger): Promise<void> {
  return new Promise((res) => logger.flush(() => res()));
}

function buildProgram(): Command {
  const program = new Command()
    .name('newsfront')
    .description('IMAP server exporting netnews groups (NNTP upstreams or mbox archives) as read-only mailboxes')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const withConfigOptions = (c: Command): Command =>
    c
      .option('--config <file>', 'JSON config file (see config/README.md)')
      .option('--listen <host:port>', 'IMAP listen address (default 127.0.0.1:1143)')
      .option('--upstream <url>', 'NNTP upstream nntp://[user:pass@]host[:port] or nntps://…; repeat for several', collect, [])
      .option('--archive <dir>', 'directory of mboxrd files, one per group')
      .option('--data <dir>', 'data directory for the UID map and cache (default ./data)')
      .option('--uidmap <url>', 'UID map in PostgreSQL (postgres://user:pass@host/db) instead of LMDB under --data')
      .option('--state <mode>', 'flag storage: session | local | http(s)://state-agent | postgres://user:pass@host/db')
      .option('--users <file>', 'users file')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent');
  withConfigOptions(program.command('serve'))
    .description('serve the configured groups over IMAP (the sample archive when nothing is configured)')
    .action(async (opts: ConfigFlags) => {
      await serve(opts);
    });
  withConfigOptions(program.command('ingest'))
    .description('record every article of every group in the UID map, log each group, and exit')
    .action(async (opts: ConfigFlags) => {
      await ingest(opts);
    });
  withConfigOptions(program.command('index'))
    .description('index these groups now (headers and every body) in <data>/search.db, print rate and size per article, and exit')
    .argument('<groups...>')
    .action(async (groups: string[], opts: ConfigFlags) => {
      await indexGroups(groups, opts);
    });
  program
    .command('status')
    .description("the search index's progress per group (indexed of total, crawl rate, ETA, size on disk): asks the server's operations listener, else reads <data>/search.db")
    .option('--config <file>', 'JSON config file (see config/README.md)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--url <url>', 'operations listener of the server, http://HOST:PORT (default: metrics.listen of the config)')
    .option('--json', 'print the status as JSON')
    .action(async (opts: StatusFlags) => {
      process.exit(await statusCommand(opts, (s) => process.stdout.write(s), (s) => process.stderr.write(s)));
    });
  program
    .command('db')
    .description('database maintenance for PostgreSQL (UID map and flags)')
    .command('migrate')
    .description('apply the schema migrations to the UID map database (--uidmap) and the flag database (--state, or agent.store), print the versions, and exit')
    .option('--config <file>', 'JSON config file (see config/README.md)')
    .option('--uidmap <url>', 'postgres://user:pass@host[:port]/database (or NEWSFRONT_UIDMAP, or uidmap in the config file)')
    .option('--state <url>', 'flags: postgres://user:pass@host[:port]/database (or NEWSFRONT_STATE, state or agent.store in the config file)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (opts: ConfigFlags) => {
      await dbMigrate(opts);
    });
  program
    .command('agent')
    .description('run the state agent: per-user flags over HTTP (docs/agent-api.md); options set the "agent" config section')
    .option('--config <file>', 'JSON config file (see config/README.md)')
    .option('--listen <host:port>', 'address of the agent\'s HTTP listener (agent.listen)')
    .option('--data <dir>', 'data directory of the agent, LMDB (agent.data)')
    .option('--store <url>', 'flags in PostgreSQL, postgres://user:pass@host[:port]/database, instead of LMDB (agent.store)')
    .option('--tokens <file>', 'tokens file: "<token> user|frontend <name>" per line (agent.tokens)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (opts: AgentFlags) => {
      await agent(opts);
    });
  program
    .command('passwd')
    .description('print a users-file line name:{SCRYPT}... for NAME; the password is read from standard input')
    .argument('<name>')
    .action(async (name: string) => {
      const password = await readPassword();
      process.stdout.write(`${await hashPassword(name, password)}\n`);
    });
  program
    .command('sample')
    .description('write the sample archive (mboxrd files) into DIR')
    .argument('<dir>')
    .action(async (dir: string) => {
      const files = await writeSampleArchive(dir);
      process.stdout.write(`${files.join('\n')}\n`);
    });
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors are configuration errors.
      process.exit(err.exitCode === 0 ? 0 : CONFIG_EXIT_CODE);
    }
    process.stderr.write(`newsfront: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

await main(process.argv);
