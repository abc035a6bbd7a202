/** Things a bench run undoes on the way out (servers, INN, temp dirs): last first, once, on success, failure or a signal. */
export class Cleanup {
  private readonly fns: Array<{ name: string; fn: () => Promise<void> }> = [];
  private ran = false;
  constructor(private readonly log: (msg: string) => void) {}
  add(name: string, fn: () => Promise<void>): void {
    this.fns.push({ name, fn });
  }
  async run(): Promise<void> {
    if (this.ran) return;
    this.ran = true;
    for (const { name, fn } of this.fns.reverse()) {
      try {
        await fn();
      } catch (err) {
        this.log(`cleanup ${name} failed: ${(err as Error).message}`);
      }
    }
  }
}
