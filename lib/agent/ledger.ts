// The per-run cost ledger (DESIGN.md §3): one per root run, shared by its agent and llm steps, map
// items and child runs. Every model call reserves its most expensive outcome first (prompt
// estimate plus max completion tokens) and settles to the real cost after, so concurrent calls
// cannot all pass a check made against spend that is not booked yet. reserve() is synchronous:
// check and book happen in one turn of the event loop, which is what makes it atomic here (a run
// and its child runs are driven by one process at a time — the run lease).

export interface Reservation {
  readonly amountUsd: number;
  settled: boolean;
}

export class CostLedger {
  reservedUsd = 0;
  /** Model calls that got a reservation, and calls refused for the cap. */
  granted = 0;
  refused = 0;

  constructor(
    readonly capUsd: number,
    public spentUsd = 0,
  ) {}

  /** Books `amountUsd` if it fits under the cap with everything spent and reserved; null if not. */
  reserve(amountUsd: number): Reservation | null {
    const amount = Number.isFinite(amountUsd) && amountUsd > 0 ? amountUsd : 0;
    if (this.spentUsd + this.reservedUsd + amount > this.capUsd) {
      this.refused++;
      return null;
    }
    this.reservedUsd += amount;
    this.granted++;
    return { amountUsd: amount, settled: false };
  }

  /** Replaces the reservation by the real cost (0 when the call failed before any answer). */
  settle(r: Reservation, actualUsd: number): void {
    if (r.settled) return;
    r.settled = true;
    this.reservedUsd = Math.max(0, this.reservedUsd - r.amountUsd);
    if (Number.isFinite(actualUsd) && actualUsd > 0) this.spentUsd += actualUsd;
  }

  /** What a refused reservation tells the step. */
  refusal(amountUsd: number): string {
    return `run cost cap of ${this.capUsd} USD reached (spent ${this.spentUsd.toFixed(6)}, reserved ${this.reservedUsd.toFixed(6)}, this call needs up to ${amountUsd.toFixed(6)})`;
  }
}
