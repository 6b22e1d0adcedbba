/**
 * Delivers one conversation's messages to one socket exactly once and in sequence order.
 *
 * Messages reach a socket by two roads: the fan-out bus (fast, but publications from two processes
 * can cross) and the store (the conversation's recent set in Redis, MongoDB for older ranges:
 * models/chat/recent-messages.ts), read on connect and when a gap shows. Whatever arrives,
 * from either road, goes through `push`: numbers at or below `last` are dropped (duplicates), the next
 * number is delivered at once, a later one waits while the gap is read from MongoDB. A number that was
 * allocated but never stored (a crash between the two) is passed over after that read, so one lost
 * write cannot stall the conversation.
 */
import type { MessageView } from '../../../models/chat/message.js';

const GAP_WAIT_MS = 250;
/** A sequence number still missing from the store after this long is treated as never written. */
export const GAP_GIVE_UP_MS = 3000;

export class Sequencer {
  private readonly pending = new Map<number, MessageView>();
  private timer: NodeJS.Timeout | null = null;
  private filling = false;
  private gapSince = 0;

  /** See `midway`: numbers below this one, arriving late, are still delivered once (until lateUntil). */
  private readonly firstSeq: number;
  private readonly lateUntil: number;
  private readonly lateSeen = new Set<number>();

  /**
   * `midway`: this socket starts following the conversation at a message it was just sent (an
   * operator's socket, on the first message of a conversation it sees). A lower number still being
   * stored at that moment by another process arrives after it; it is new to this socket, so it is
   * delivered (once, a little out of order) instead of being dropped as a duplicate.
   */
  constructor(
    public last: number,
    private readonly deliver: (m: MessageView) => void,
    private readonly fetchAfter: (afterSeq: number) => Promise<MessageView[]>,
    midway = false,
  ) {
    this.firstSeq = last + 1;
    this.lateUntil = midway ? Date.now() + GAP_GIVE_UP_MS : 0;
  }

  push(m: MessageView): void {
    if (m.seq < this.firstSeq && Date.now() < this.lateUntil && !this.lateSeen.has(m.seq)) {
      this.lateSeen.add(m.seq);
      return this.deliver(m);
    }
    if (m.seq <= this.last || this.pending.has(m.seq)) return;
    this.pending.set(m.seq, m);
    this.flush();
    if (this.pending.size > 0 && this.gapSince === 0) this.gapSince = Date.now();
    if (this.pending.size > 0 && !this.timer && !this.filling)
      this.timer = setTimeout(() => void this.fill(Date.now() - this.gapSince > GAP_GIVE_UP_MS), GAP_WAIT_MS);
  }

  /** Reads everything after `last` from the store (on connect, on resync, when a gap lasts). */
  async fill(skipGaps = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.filling = true;
    try {
      for (;;) {
        const rows = await this.fetchAfter(this.last);
        for (const r of rows) if (r.seq > this.last) this.pending.set(r.seq, r);
        const before = this.last;
        this.flush();
        if (rows.length < 500 || this.last === before) break;
      }
    } catch {
      // The store is unreachable: keep what we have and try again shortly (the timer below).
      skipGaps = false;
    } finally {
      this.filling = false;
    }
    // A gap found by this read starts its give-up clock now (not at 0, which would pass it at once).
    if (this.pending.size > 0 && this.gapSince === 0) this.gapSince = Date.now();
    // Pass the gap once its give-up time is over, or at once when the message above it was stored
    // longer ago than that: the missing number was never written (its process died before storing).
    const first = this.pending.size > 0 ? this.pending.get(Math.min(...this.pending.keys())) : undefined;
    if (first && (skipGaps || Date.now() - Date.parse(first.created_at) > GAP_GIVE_UP_MS)) {
      this.last = first.seq - 1;
      this.flush();
    }
    if (this.pending.size > 0 && !this.timer)
      this.timer = setTimeout(() => void this.fill(Date.now() - this.gapSince > GAP_GIVE_UP_MS), GAP_WAIT_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  private flush(): void {
    for (let next = this.pending.get(this.last + 1); next; next = this.pending.get(this.last + 1)) {
      this.pending.delete(next.seq);
      this.last = next.seq;
      this.deliver(next);
    }
    if (this.pending.size === 0) this.gapSince = 0;
  }
}
