/**
 * Gives glibc's free heap memory back to the kernel while the process works.
 *
 * Article bytes, socket chunks, LMDB and libsql buffers are allocated with
 * malloc outside V8's heap. glibc returns freed memory to the kernel only at
 * the top of an arena; the free chunks in between stay resident, so after a
 * cold listing of a 1M-article group ~200–230 MB of the process's anonymous
 * memory was free glibc heap (measured with gdb's malloc_trim: 568 → 339 MB).
 * `malloc_trim(0)` releases every free page of every arena (madvise).
 *
 * The trimmer calls it through koffi (prebuilt FFI binary, no compiler) on
 * libuv's thread pool, not the event loop: with a lot to release it takes
 * ~0.2 s per 700 MB. It runs at most once per `intervalMs`, and only after the
 * process used at least MIN_CPU_MS of CPU since the last trim, so an idle
 * server does nothing — with one exception: the first tick after a busy trim
 * that finds the process quiet trims once more (a trailing trim), because
 * what the last burst of work freed (a listing's buffers, the last responses)
 * is freed after that burst's last trim, and a quiet process would otherwise
 * keep it until the next burst. Where there is no glibc (musl, macOS) or koffi cannot
 * load, it logs once at debug level and stays off.
 */
import { createRequire } from 'node:module';
import type { Logger } from './log.js';

/** CPU (user + system, all threads) the process must have used since the last trim before another: idle processes do not trim. */
const MIN_CPU_MS = 100;

type TrimFn = (pad: number, cb: (err: unknown, res: number) => void) => void;

/** `malloc_trim` of the running glibc as an async call, or the reason there is none. */
function loadTrim(): TrimFn | Error {
  if (process.platform !== 'linux') return new Error(`no glibc on ${process.platform}`);
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (!report?.header?.glibcVersionRuntime) return new Error('not glibc (musl?)');
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as { load(path: string): { func(decl: string): { async: TrimFn } } };
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)').async;
  } catch (err) {
    return err as Error;
  }
}

export interface MallocTrimmer {
  /** Stops the timer (a trim under way finishes on its thread). */
  stop(): void;
  /** Trims now if the process used MIN_CPU_MS of CPU since the last trim; resolves when done or skipped. */
  trimNow(): Promise<void>;
  /** What the timer does every interval: `trimNow`, or the trailing trim after a busy one (see above). */
  tick(): Promise<void>;
}

/**
 * Starts trimming every `intervalMs` (0: never; the returned trimmer does
 * nothing). `trim` replaces glibc's (tests); `cpuMs` the process's CPU clock.
 */
export function startMallocTrimmer(
  intervalMs: number,
  log: Logger,
  deps: { trim?: TrimFn; cpuMs?: () => number } = {},
): MallocTrimmer {
  const off: MallocTrimmer = { stop: () => undefined, trimNow: () => Promise.resolve(), tick: () => Promise.resolve() };
  if (intervalMs <= 0) return off;
  const trim = deps.trim ?? loadTrim();
  if (trim instanceof Error) {
    log.debug({ reason: trim.message }, 'memory: malloc_trim not available; glibc keeps its free heap');
    return off;
  }
  const cpuMs = deps.cpuMs ?? ((): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  });
  let lastCpu = -Infinity;
  let running: Promise<void> | null = null;
  let failed = false;
  /** The last trim was a busy one (MIN_CPU_MS of work before it): the next quiet tick trims once more. */
  let trailing = false;
  /** One trim on the thread pool; `cpu` is the process CPU clock now. */
  const startTrim = (cpu: number): Promise<void> => {
    lastCpu = cpu;
    running = new Promise<void>((resolve) => {
      trim(0, (err) => {
        if (err) {
          failed = true;
          log.warn({ err: (err as Error).message }, 'memory: malloc_trim failed; not trying again');
        }
        running = null;
        resolve();
      });
    });
    return running;
  };
  const trimNow = (): Promise<void> => {
    if (running || failed) return running ?? Promise.resolve();
    const cpu = cpuMs();
    if (cpu - lastCpu < MIN_CPU_MS) return Promise.resolve();
    trailing = true;
    return startTrim(cpu);
  };
  const tick = (): Promise<void> => {
    if (running || failed) return running ?? Promise.resolve();
    const cpu = cpuMs();
    if (cpu - lastCpu >= MIN_CPU_MS) return trimNow();
    if (!trailing) return Promise.resolve();
    trailing = false;
    return startTrim(cpu);
  };
  const timer = setInterval(() => void tick(), intervalMs).unref();
  return {
    stop: () => clearInterval(timer),
    trimNow,
    tick,
  };
}
