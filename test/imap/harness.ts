/** Starts an ImapServer on a free loopback port over a given Backend, for tests. */
import { ImapServer, type ImapServerOptions } from '../../src/imap/server.js';
import { RenderCache } from '../../src/imap/render/cache.js';
import type { Backend } from '../../src/export/interface.js';
import type { ServerContext, ServerOptions } from '../../src/imap/context.js';
import type { FlagStore } from '../../src/stateagent/flagstore.js';
import { Users } from '../../src/app/auth/users.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { silentLogger } from '../../src/util/log.js';
import type { TlsMaterial } from '../../src/imap/context.js';

export interface TestServer {
  port: number;
  server: ImapServer;
  close(): Promise<void>;
}

export async function startImap(
  backend: Backend,
  opts: Partial<ServerOptions> & { users?: string; tls?: TlsMaterial; tlsPort?: number; flagStoreFor?: (user: string) => FlagStore; hooks?: ImapServerOptions } = {},
): Promise<TestServer & { tlsPort?: number }> {
  const users = Users.parse(opts.users ?? 'alice:{PLAIN}secret\nbob:{PLAIN}hunter2\n');
  const ctx: ServerContext = {
    backend,
    renderCache: new RenderCache(),
    auth: users,
    flagStoreFor: opts.flagStoreFor ?? (() => new SessionFlagStore()),
    tls: opts.tls,
    options: {
      anonymous: opts.anonymous ?? true,
      allowPlaintextAuth: opts.allowPlaintextAuth ?? true,
      namespacePrefix: opts.namespacePrefix ?? '',
      idleTimeoutMs: opts.idleTimeoutMs ?? 30 * 60_000,
      loginFailureDelayMs: opts.loginFailureDelayMs ?? 10,
      compress: opts.compress ?? true,
      persistentFlags: opts.persistentFlags ?? false,
      crosspostSeen: opts.crosspostSeen ?? true,
      sortThread: opts.sortThread ?? false,
    },
  };
  const server = new ImapServer(ctx, silentLogger(), {}, opts.hooks ?? {});
  const { port, tlsPort } = await server.listen({ host: '127.0.0.1', port: 0, tlsPort: opts.tlsPort });
  return { port, tlsPort, server, close: () => server.close() };
}
