/**
 * A token bucket for log lines: a flood of client errors (an unauthenticated caller can send as many
 * 4xx requests as it likes) must not turn into a flood of log lines. Each line costs a token; tokens
 * refill at `perSecond` up to `burst`. What was refused is counted, and the next line that gets
 * through says how many were left out, so the log still shows that a flood happened.
 */
export class LogBudget {
  private tokens: number;
  private last = Date.now();
  private skipped = 0;
  /** Lines left out since the process started (exported as a metric). */
  totalSkipped = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** null: leave this line out. Otherwise the number of lines left out since the last one written. */
  take(now = Date.now()): number | null {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) {
      this.skipped++;
      this.totalSkipped++;
      return null;
    }
    this.tokens -= 1;
    const skipped = this.skipped;
    this.skipped = 0;
    return skipped;
  }
}
