/**
 * IDLE (RFC 2177 / RFC 9051 §6.3.13) and COMPRESS (RFC 4978).
 *
 *   C: a1 IDLE                 S: + idling
 *                              S: * 232 EXISTS       (an article arrived upstream)
 *   C: DONE                    S: a1 OK IDLE terminated
 *
 * During IDLE, EXPUNGE (upstream expiry) may be sent at once: no command is
 * being answered, which is the safe point RFC 9051 §7.5.1 asks for.
 */
import { command } from '../command.js';
import { AUTHENTICATED } from '../session.js';
import { bad, no } from '../errors.js';

export const idleCommands = [
  command({
    name: 'IDLE',
    states: AUTHENTICATED,
    parse: (d) => d.end(),
    async run(ctx) {
      const sel = ctx.session.selected;
      let flushing = Promise.resolve();
      if (sel) {
        sel.onChange = () => {
          flushing = flushing.then(() => ctx.flushUpdates(true)).catch((err) => ctx.log.debug({ err }, 'IDLE update failed'));
        };
      }
      try {
        await ctx.continuation('idling');
        await ctx.flushUpdates(true);
        const line = await ctx.readLine();
        await flushing;
        if (line.toString('latin1').trim().toUpperCase() !== 'DONE') throw bad('CLIENTBUG', 'Expected DONE to end IDLE');
      } finally {
        if (sel) sel.onChange = undefined;
      }
      return { text: 'IDLE terminated' };
    },
  }),
  command({
    name: 'COMPRESS',
    states: AUTHENTICATED,
    parse(d) {
      d.sp();
      const alg = d.atom().toUpperCase();
      d.end();
      return alg;
    },
    async run(ctx, alg) {
      if (!ctx.server.options.compress) throw no('CANNOT', 'Compression is disabled');
      if (alg !== 'DEFLATE') throw no('CANNOT', `Unknown compression ${alg.slice(0, 20)}`);
      if (ctx.session.compressed) throw no('COMPRESSIONACTIVE', 'Compression is already active');
      ctx.afterCompletion(() => ctx.transport.startCompression());
      return { text: 'DEFLATE active' };
    },
  }),
];
