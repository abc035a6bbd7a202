/** Public data types of the NNTP client (re-exported by client.ts). */
import type { ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';

export interface NntpClientOptions {
  host: string;
  port: number;
  /** Implicit TLS (nntps), default false. */
  tls?: boolean;
  /** Default 'auto': use STARTTLS if CAPABILITIES offers it (RFC 4642). */
  starttls?: 'never' | 'auto' | 'require';
  tlsOptions?: ConnectionOptions;
  /** AUTHINFO USER/PASS (RFC 4643) when given, after TLS if any. */
  user?: string;
  password?: string;
  /** COMPRESS DEFLATE (RFC 8054) if offered; default false. */
  compress?: boolean;
  /** Default 10_000. */
  greetingTimeoutMs?: number;
  /** Default 60_000: no byte received for that long while a response is awaited ⇒ TIMEOUT. */
  commandTimeoutMs?: number;
  /** Max commands in flight, default 100. */
  pipelineWindow?: number;
  /** Default 64 KiB for status/overview lines ⇒ PROTOCOL error if exceeded. */
  maxLineBytes?: number;
  /** Default 1 MiB for HEAD collected in memory. */
  maxHeadBytes?: number;
  logger?: Logger;
  /**
   * Addition to the agreed API. Default true: when input arrived and no command
   * is ready to carry our ACK, send a DATE (answer discarded) so a server that
   * writes responses in small pieces is not held ~40 ms by Nagle + delayed ACK.
   */
  ackNudge?: boolean;
}

export interface GroupStatus {
  name: string;
  count: number;
  low: number;
  high: number;
}

export interface ActiveEntry {
  name: string;
  high: number;
  low: number;
  status: string;
}

/** An overview line without its raw bytes (`NntpClient.overRecords`, `parseOverRecord`). */
export interface OverRecord {
  number: number;
  subject: string;
  from: string;
  date: string;
  messageId: string;
  references: string;
  bytes: number;
  lines: number;
  /** The Xref field's value, when the line has one. */
  xref?: string;
  /** With an `inReplyTo` field index: the In-Reply-To value ('' when the article has none). */
  inReplyTo?: string;
}

/** An overview line with every field's raw bytes (`NntpClient.over`, `parseOverLine`). */
export interface OverLine extends OverRecord {
  /** all fields raw as Buffers in OVERVIEW.FMT order after the number */
  raw: Buffer[];
}

export interface ArticleHandle {
  number: number;
  messageId: string;
  /** Un-stuffed article (or body) bytes, CRLF line ends. The caller must consume or destroy it. */
  stream: Readable;
}
