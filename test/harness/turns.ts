/** Counts event-loop turns (one setImmediate chain) until stopped: what a test asks "how much happened per turn" with. */
export function turnCounter(): { readonly turn: number; stop(): void } {
  let turn = 0;
  let on = true;
  const tick = (): void => {
    turn++;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop() {
      on = false;
    },
  };
}
