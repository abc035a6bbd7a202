/**
 * The state agent: an HTTP/JSON service over a flag store (routes.ts,
 * docs/agent-api.md): LMDB under `dataDir`, or PostgreSQL at `store` so that
 * several agents serve the same users (store.ts). It owns the store it opens
 * and closes it in `close()`.
 * No request can take it down: every failure becomes a JSON error answer,
 * an unexpected one a logged 500.
 *
 * `startAgent` is the entry of the agent: it takes options already validated
 * by its caller (`newsfront agent` in src/cli.ts reads them through the shared
 * config system, `loadAgentConfig`; tests pass them directly). Throws
 * TokenFileError for a bad or unreadable tokens file, before listening.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../util/log.js';
import { openAgentStore } from './store.js';
import { Tokens } from './auth.js';
import { Feeds } from './feed.js';
import { HttpError, sendError, sendJson } from './http.js';
import { route } from './routes.js';
import { ImportGate } from './newsrc-import.js';

export interface AgentOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  /** Directory for the LMDB environment (`<dataDir>/flags`); unused with `store`. */
  dataDir?: string | null;
  /** PostgreSQL URL (`postgres://…`): flags there instead of LMDB. */
  store?: string | null;
  /** A tokens file (auth.ts format) or parsed tokens. One is required. */
  tokensFile?: string;
  tokens?: Tokens;
  logger: Logger;
}

export interface RunningAgent {
  port: number;
  host: string;
  /** Stop listening, end SSE feeds, wait for open requests, close the store. */
  close(): Promise<void>;
}

/** Time a request may take to send its headers and body (slowloris guard). */
const REQUEST_TIMEOUT_MS = 30_000;

/** Time `close()` gives running requests before cutting their connections. */
const CLOSE_GRACE_MS = 5_000;

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.logger.child({ component: 'state-agent' });
  const tokens = opts.tokens ?? (opts.tokensFile ? Tokens.load(opts.tokensFile) : undefined);
  if (!tokens) throw new Error('startAgent: tokens or tokensFile is required');
  const store = await openAgentStore({ dataDir: opts.dataDir, store: opts.store, logger: log });
  const feeds = new Feeds(store, log);
  const ctx = { store, tokens, feeds, imports: new ImportGate(), log };
  let seq = 0;

  const server: Server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    const rid = ++seq;
    route(ctx, req, res).then(
      ({ grant }) => log.debug({ rid, method: req.method, url: req.url, who: grant?.name, status: res.statusCode }, 'request'),
      (err: unknown) => {
        if (res.headersSent) {
          log.warn({ rid, err }, 'request failed after the answer started');
          res.destroy();
          return;
        }
        if (err instanceof HttpError) {
          log.debug({ rid, method: req.method, url: req.url, status: err.status, code: err.code }, 'request refused');
          sendError(res, err);
          if (err.headers.connection === 'close') res.on('finish', () => req.destroy());
          return;
        }
        log.error({ rid, err, method: req.method, url: req.url }, 'request failed');
        sendJson(res, 500, { error: { code: 'SERVERBUG', message: 'internal error' } }, { connection: 'close' });
      },
    );
  });
  server.on('clientError', (err, socket) => {
    log.debug({ err: (err as Error).message }, 'bad HTTP from client');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  log.info({ host: opts.host, port: addr.port, tokens: tokens.size }, 'state agent listening');

  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    host: opts.host,
    close() {
      closing ??= (async () => {
        feeds.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // requests still running get CLOSE_GRACE_MS to finish (their writes are durable or not started)
          setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
        });
        await store.close();
        log.info('state agent stopped');
      })();
      return closing;
    },
  };
}
