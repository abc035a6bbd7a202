/**
 * Entry of the state agent process:
 *
 *     newsfront agent --listen HOST:PORT --data DIR --tokens FILE [--log-level LEVEL]
 *     node --import tsx src/stateagent/agent/main.ts --listen 127.0.0.1:0 --data DIR --tokens FILE
 *
 * `runAgentCli(argv)` parses the arguments after `agent`, starts the agent and
 * (with `signals`) stops it cleanly on SIGINT/SIGTERM. Run directly, it logs
 * to stderr and prints one line `listening HOST:PORT` on stdout once it
 * accepts connections (tests and supervisors wait for it).
 * Throws AgentUsageError (exit status 2) for bad arguments or a bad tokens file.
 */
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { createLogger, type Logger } from '../../util/log.js';
import { TokenFileError, Tokens } from './auth.js';
import { startAgent, type RunningAgent } from './server.js';

export class AgentUsageError extends Error {
  readonly code = 'USAGE';
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentUsageError';
  }
}

export interface AgentArgs {
  host: string;
  port: number;
  dataDir: string;
  tokensFile: string;
  logLevel: string;
}

/** `HOST:PORT` or `[v6]:PORT`. */
function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AgentUsageError(`--listen: expected HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2])!, port };
}

export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  const cmd = new Command('agent')
    .description('newsfront state agent: per-user flags over HTTP')
    .requiredOption('--listen <host:port>', 'address to listen on')
    .requiredOption('--data <dir>', 'data directory (LMDB)')
    .requiredOption('--tokens <file>', 'tokens file: "<token> user|frontend <name>" per line')
    .option('--log-level <level>', 'pino log level', 'info')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new AgentUsageError(err.message, { cause: err });
    throw err;
  }
  const o = cmd.opts<{ listen: string; data: string; tokens: string; logLevel: string }>();
  return { ...parseListen(o.listen), dataDir: o.data, tokensFile: o.tokens, logLevel: o.logLevel };
}

export interface RunAgentOptions {
  logger?: Logger;
  /** Install SIGINT/SIGTERM handlers that close the agent (default false). */
  signals?: boolean;
}

export async function runAgentCli(argv: readonly string[], opts: RunAgentOptions = {}): Promise<RunningAgent> {
  const a = parseAgentArgs(argv);
  let tokens: Tokens;
  try {
    tokens = Tokens.load(a.tokensFile);
  } catch (err) {
    const why = err instanceof TokenFileError ? err.message : `cannot read ${a.tokensFile}: ${(err as Error).message}`;
    throw new AgentUsageError(why, { cause: err });
  }
  const logger = opts.logger ?? createLogger({ level: a.logLevel, fd: 2 });
  const agent = await startAgent({ host: a.host, port: a.port, dataDir: a.dataDir, tokens, logger });
  if (opts.signals) {
    const stop = (sig: string): void => {
      logger.info({ sig }, 'stopping state agent');
      agent.close().then(() => process.exit(0), (err: unknown) => {
        logger.error({ err }, 'state agent close failed');
        process.exit(1);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return agent;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runAgentCli(process.argv.slice(2), { signals: true }).then(
    (agent) => process.stdout.write(`listening ${agent.host}:${agent.port}\n`),
    (err: unknown) => {
      process.stderr.write(`newsfront agent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof AgentUsageError ? 2 : 1);
    },
  );
}
