/**
 * Delivers one conversation's messages to one socket exactly once and in sequence order.
 *
 * Messages reach a socket by two roads: the fan-out bus (fast, but publications from two processes
 * can cross, and one made while this process's subscriber was reconnecting is gone) and the store
 * (the conversation's recent set in Redis, MongoDB for older ranges: models/chat/recent-messages.ts),
 * read on connect, on resync, after a subscriber reconnect and when a gap shows. Whatever arrives,
 * from either road, goes through `push`: numbers at or below `last` are dropped (duplicates), the next
 * number is delivered at once, a later one waits while the gap is read from the store.
 *
 * A gap is decided from the store's facts, never from this process's clock (a busy process sees
 * every message late, and must not take lateness for loss): a missing number still marked in flight
 * (taken, its message not yet in the recent set: conversation-state.ts) is waited for; a number
 * neither stored nor in flight will never be filled (its writer died before the mark, or Redis lost
 * the counter and numbering resumed below it) and is passed over at once; a number in flight for
 * longer than IN_FLIGHT_GIVE_UP_MS (by Redis's clock) belongs to a writer that died after taking it,
 * and is passed over then, so one lost write cannot stall the conversation for good.
 */
import type { AfterSeq } from '../../../models/chat/recent-messages.js';
import type { MessageView } from '../../../models/chat/message.js';

/** How long a reader waits before reading a gap again from the store. */
const GAP_WAIT_MS = 250;
/**
 * A number still in flight this long after it was taken is treated as never written. Writing a
 * message is two Redis round trips after its number is taken (its store job, then the recent set);
 * a process that has not done them in this long has died, or is too starved to serve its sockets.
 */
export const IN_FLIGHT_GIVE_UP_MS = 10_000;
/**
 * A message at most this long on its way is still in time for an operator socket that began
 * following the conversation at a later number (see `midway`).
 */
const LATE_WINDOW_MS = 3000;

export class Sequencer {
  private readonly pending = new Map<number, MessageView>();
  private timer: NodeJS.Timeout | null = null;

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
    private readonly fetchAfter: (afterSeq: number) => Promise<AfterSeq>,
    midway = false,
  ) {
    this.firstSeq = last + 1;
    this.lateUntil = midway ? Date.now() + LATE_WINDOW_MS : 0;
  }

  push(m: MessageView): void {
    if (m.seq < this.firstSeq && Date.now() < this.lateUntil && !this.lateSeen.has(m.seq)) {
      this.lateSeen.add(m.seq);
      return this.deliver(m);
    }
    if (m.seq <= this.last || this.pending.has(m.seq)) return;
    this.pending.set(m.seq, m);
    this.flush();
    this.retryLater();
  }

  /** Reads everything after `last` from the store (on connect, on resync, after a reconnect, when a gap lasts). */
  async fill(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Two reads at once (a gap's retry and a resync) are harmless: a number is delivered once, in order.
    try {
      for (;;) {
        const { messages, inFlight } = await this.fetchAfter(this.last);
        for (const r of messages) if (r.seq > this.last) this.pending.set(r.seq, r);
        const before = this.last;
        this.flush();
        this.passOver(inFlight);
        if (messages.length < 500 || this.last === before) break;
      }
    } catch {
      // The store is unreachable: keep what we have and try again shortly (below).
    }
    this.retryLater();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  /**
   * After a read of the store: passes over each missing number below the first one waiting that no
   * writer will fill (neither stored nor in flight, or in flight past the give-up), and stops at one
   * still being written.
   */
  private passOver(inFlight: Map<number, number>): void {
    while (this.pending.size > 0) {
      const missing = this.last + 1;
      const age = inFlight.get(missing);
      if (age !== undefined && age < IN_FLIGHT_GIVE_UP_MS) return;
      this.last = missing;
      this.flush();
    }
  }

  /** While a gap remains, reads the store again shortly. */
  private retryLater(): void {
    if (this.pending.size > 0 && !this.timer) this.timer = setTimeout(() => void this.fill(), GAP_WAIT_MS);
  }

  private flush(): void {
    for (let next = this.pending.get(this.last + 1); next; next = this.pending.get(this.last + 1)) {
      this.pending.delete(next.seq);
      this.last = next.seq;
      this.deliver(next);
    }
  }
}
