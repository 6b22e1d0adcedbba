/**
 * Verified callback routes, dispatched by event type: each event of the relay's catalogue is POSTed
 * to its own path (`/relay-callbacks/pairing`, `/api/v1/chat-callbacks/message-received`, …), so the
 * router answers those paths, verifies every request (HMAC #1 over the raw bytes, ±30 s, the tenant,
 * constant time, a signature seen before is refused) and calls the handler of its event type:
 *
 * - bad signature, stale timestamp, other tenant, replayed signature → 401 `{error: "INVALID_CALLBACK", reason}`;
 * - an event posted to another event's path → 400 `EVENT_MISMATCH`;
 * - a known event without a handler → 200 `{"received": true}` (logged);
 * - a handler that throws → 500 `{"received": false, "error": "HANDLER_FAILED"}`, so the relay retries
 *   (delivery is at least once: de-duplicate on `event.eventId`).
 */
import {
  CALLBACK_EVENTS,
  type CallbackEvent,
  type CallbackEventOf,
  type CallbackEventType,
  type CallbackData,
} from '../callback-events.js';
import { CallbackVerificationError } from '../errors.js';
import { verifyCallback, type ReplayStore } from '../signing.js';
import { MemoryKV } from '../stores/memory.js';
import { replayStore } from '../stores/instructions.js';
import { defaultLogger, type Logger } from '../sudo/core.js';
import { BodyError, dualRoutes, type Answer, type DualMiddleware, type Exchange } from './exchange.js';

export type CallbackHandler<T extends CallbackEventType> = (event: CallbackEventOf<T, CallbackData<T>>) => unknown;
export type CallbackHandlers = { [T in CallbackEventType]?: CallbackHandler<T> };

export interface CallbackRouterOptions {
  /** The tenant secret (or several, during a rotation). */
  secret: string | readonly string[];
  tenantId: string;
  /** The event types this router serves (their paths are answered). */
  events: readonly CallbackEventType[];
  handlers?: CallbackHandlers;
  /** Where seen signatures are remembered (default: this process's memory; Redis to share it). */
  replayStore?: ReplayStore;
  /** Paths are answered only for event types with a handler (default: all of `events`). */
  onlyHandled?: boolean;
  logger?: Logger;
  /** Parse JSON bodies of other routes into ctx.request.body / req.body (default true). */
  parseJson?: boolean;
}

export class CallbackRouter {
  private readonly handlers = new Map<string, (ev: CallbackEvent) => unknown>();
  private readonly replay: ReplayStore;
  private readonly log: Logger;

  constructor(private readonly o: CallbackRouterOptions) {
    this.replay = o.replayStore ?? replayStore(new MemoryKV());
    this.log = o.logger ?? defaultLogger;
    for (const [type, fn] of Object.entries(o.handlers ?? {}))
      if (fn) this.on(type as CallbackEventType, fn as CallbackHandler<CallbackEventType>);
  }

  /** Registers (or replaces) the handler of one event type. */
  on<T extends CallbackEventType>(type: T, handler: CallbackHandler<T>): this {
    if (!this.o.events.includes(type)) throw new TypeError(`this router does not serve ${type} (it serves ${this.o.events.join(', ')})`);
    this.handlers.set(type, handler as (ev: CallbackEvent) => unknown);
    return this;
  }

  /** The event types POSTed to `path` that this router answers, or null. */
  typesAt(path: string): CallbackEventType[] | null {
    const atPath = this.o.events.filter((t) => CALLBACK_EVENTS[t].path === path);
    if (!atPath.length || (this.o.onlyHandled && !atPath.some((t) => this.handlers.has(t)))) return null;
    return atPath;
  }

  /** Answers one request if it is a callback of this router (true), else leaves it (false). */
  async route(ex: Exchange): Promise<boolean> {
    const types = ex.method === 'POST' ? this.typesAt(ex.path) : null;
    if (!types) return false;
    ex.send(await this.answer(ex, types));
    return true;
  }

  private async answer(ex: Exchange, types: CallbackEventType[]): Promise<Answer> {
    let ev: CallbackEvent;
    try {
      ev = await verifyCallback(ex.headers, await ex.raw(), this.o.secret, { tenantId: this.o.tenantId, replayStore: this.replay });
    } catch (e) {
      if (e instanceof BodyError) return (this.log.error?.(String((e.answer.body as { message?: string }).message)), e.answer);
      if (!(e instanceof CallbackVerificationError)) throw e;
      this.log.warn?.(`refused a callback at ${ex.path}: ${e.reason}`);
      return { status: 401, body: { error: 'INVALID_CALLBACK', reason: e.reason } };
    }
    if (!(types as string[]).includes(ev.eventType)) {
      return { status: 400, body: { error: 'EVENT_MISMATCH', message: `${ev.eventType} posted to ${ex.path}` } };
    }
    const handler = this.handlers.get(ev.eventType);
    if (!handler) {
      this.log.info?.(`${ev.eventType} ${ev.eventId} received (no handler)`);
      return { status: 200, body: { received: true } };
    }
    try {
      await handler(ev);
    } catch (e) {
      this.log.error?.(`the ${ev.eventType} handler failed for ${ev.eventId}`, e);
      return { status: 500, body: { received: false, error: 'HANDLER_FAILED' } };
    }
    return { status: 200, body: { received: true } };
  }

  /** Koa middleware (`app.use(router.koa())`): answers the callback paths, passes everything else on. */
  koa(): DualMiddleware {
    return this.middleware();
  }

  /** Express middleware (`app.use(router.express())`), the same. */
  express(): DualMiddleware {
    return this.middleware();
  }

  /** Middleware for either framework. */
  middleware(): DualMiddleware {
    return dualRoutes((ex) => this.route(ex), { parseJson: this.o.parseJson ?? true });
  }
}
