/**
 * Child-process repro for a crash (see early-error.test.ts): a Source whose
 * article stream fails right after `article()` resolved — what an NNTP
 * connection cut at the wrong moment does (nntp-source.ts destroys its
 * PassThrough with the error). Serves it over IMAP and runs one
 * `UID FETCH 1 (BODY.PEEK[])`. Prints `RESULT <tagged line>` and exits 0, or
 * `CRASH …` and exits 70 on an uncaught exception / unhandled rejection.
 */
import { PassThrough, type Readable } from 'node:stream';
import { SourceError } from '../../src/export/source.js';
import { FakeSource } from '../export/backend/fake-source.js';
import { rig } from '../export/backend/helpers.js';
import { startImap } from '../imap/harness.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const crash = (kind: string) => (err: unknown): void => {
  process.stdout.write(`CRASH ${kind} ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
  process.exit(70);
};
process.on('uncaughtException', crash('uncaughtException'));
process.on('unhandledRejection', crash('unhandledRejection'));

class EarlyErrorSource extends FakeSource {
  override async article(group: string, number: number): Promise<Readable> {
    await super.article(group, number);
    const out = new PassThrough();
    // like nntp-source.ts when the connection dies: the stream is destroyed with a SourceError
    setImmediate(() => out.destroy(new SourceError('UNAVAILABLE', `ARTICLE ${group}:${number}: connection closed by peer`)));
    return out;
  }
}

const src = new EarlyErrorSource();
src.fill('test.group', 3);
const r = await rig(src);
const imap = await startImap(r.backend);
const c = await RawClient.connect(imap.port);
await c.cmd('a', 'LOGIN alice secret');
await c.cmd('b', 'EXAMINE test.group');
const resp = await c.cmd('c', 'UID FETCH 1 (BODY.PEEK[])');
process.stdout.write(`RESULT ${tagged(resp, 'c')}\n`);
c.close();
await imap.close();
await r.close();
process.exit(0);
