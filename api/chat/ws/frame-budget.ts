/**
 * Per-socket budgets for the chat sockets' signal frames (issue 20, "socket frames"): each `typing` or
 * `read` frame costs Redis work and a fan-out to every socket following the conversation, and each
 * `ping` a reply; unlimited, one socket could make a process and every operator's inbox do that work
 * at whatever rate it likes. A token bucket per socket per kind, in this process's memory (a socket
 * lives on one process, so there is nothing to share and no Redis round trip to spend on a refusal).
 *
 * A frame over budget is dropped silently, before any Redis work: no error frame (it would itself be
 * traffic a flood makes us send), and the socket stays open. The budgets are far above what the
 * widget and the inbox send (typing at most every 3 s and once when it stops, a read per message seen,
 * a ping every 25 s), and the indicators they drive expire on their own (8 s), so a dropped typing
 * frame leaves nothing stuck. Messages have their own Redis-counted limits (limits.ts).
 */
import type { Conn } from './hub.js';

export const SIGNAL_BUDGETS = {
  typing: { burst: 10, perSec: 2 },
  read: { burst: 20, perSec: 5 },
  ping: { burst: 5, perSec: 0.5 },
} as const;
type Kind = keyof typeof SIGNAL_BUDGETS;
type Bucket = { tokens: number; at: number };

const buckets = new WeakMap<Conn, Partial<Record<Kind, Bucket>>>();

const isSignal = (type: unknown): type is Kind => type === 'typing' || type === 'read' || type === 'ping';

/** True when a frame of this type may be handled now (every frame that is not a signal may). */
export function allowFrame(c: Conn, type: unknown, now = Date.now()): boolean {
  if (!isSignal(type)) return true;
  const { burst, perSec } = SIGNAL_BUDGETS[type];
  let mine = buckets.get(c);
  if (!mine) buckets.set(c, (mine = {}));
  const b = (mine[type] ??= { tokens: burst, at: now });
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSec);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
