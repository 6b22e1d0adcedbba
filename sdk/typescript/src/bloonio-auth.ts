/**
 * BloonioAuth: the Auth Relay in a Koa or Express backend, the Python SDK's BloonioAuthAdapter.
 * `BloonioAuth.fromEnv()` reads `BLOONIO_RELAY_*`, builds the client and the stores, and its
 * middleware (`app.use(bloonio.koa())` or `app.use(bloonio.express())`) answers:
 *
 * - `POST {BLOONIO_RELAY_CALLBACK_PATH}` (default `/api/sudo-callback`, with or without the trailing
 *   slash): the ApprovalEvent, verified (HMAC #1, ±30 s, the tenant, a replayed signature refused);
 * - `POST /_bloonio/submit-response` `{instruction_id, response}` (totp / goldenNumber codes typed on
 *   your page, forwarded to the relay; only from the session that got the instruction's 403, see
 *   `sessionKey`);
 * - the Auth Relay's other callbacks (`/relay-callbacks/pairing`, `…/auth-challenge`, `…/passkey`,
 *   `…/test`) when you handle one of their events (`handlers`, or `bloonio.on(type, fn)`);
 *
 * and parses JSON bodies of every other request into `ctx.request.body` / `req.body` (what the
 * `fields` of `sudoRequired` read), unless a body parser already did. Mount it before your own body
 * parser: callbacks are verified over their raw bytes.
 */
import { CALLBACK_EVENT_TYPES, type CallbackEventType } from './callback-events.js';
import { RelayClient } from './client.js';
import { CallbackVerificationError } from './errors.js';
import { CallbackRouter, type CallbackHandler, type CallbackHandlers } from './http/callback-router.js';
import {
  BodyError,
  dualRoutes,
  expressExchange,
  isKoaContext,
  koaExchange,
  type DualMiddleware,
  type Exchange,
  type ExpressNext,
  type ExpressRequestLike,
  type ExpressResponseLike,
  type KoaContextLike,
  type KoaNext,
} from './http/exchange.js';
import { RelaySettings, type RelaySettingsInit } from './settings.js';
import { verifyCallback } from './signing.js';
import { kvFromSettings, SudoInstructionStore, type Instruction } from './stores/instructions.js';
import { PendingOpStore, type PendingOp } from './stores/pending-ops.js';
import {
  defaultLogger,
  INSTRUCTION_HEADER,
  SudoCore,
  SudoResponse,
  type Logger,
  type QuorumAccepted,
  type QuorumOptions,
  type Replay,
  type SudoOptions,
} from './sudo/core.js';
import type { TransportOptions } from './transport.js';

export const SUBMIT_RESPONSE_PATH = '/_bloonio/submit-response';

/** The Auth Relay's callbacks other than the ApprovalEvent (served by `handlers`). */
export const AUTH_EVENT_TYPES = CALLBACK_EVENT_TYPES.filter((t) => !t.startsWith('chat.') && t !== 'sudo.approval_event');
export type AuthEventType = Exclude<CallbackEventType, `chat.${string}` | 'sudo.approval_event'>;

export interface BloonioAuthOptions<Req = never> {
  /** Default: `BLOONIO_RELAY_*` from the environment. */
  settings?: RelaySettings | RelaySettingsInit;
  client?: RelayClient;
  /** Default: the settings' state backend (Redis at STATE_BACKEND_URL, or memory). */
  store?: SudoInstructionStore;
  pendingOps?: PendingOpStore;
  /** The signed-in user of a submit-response request: an instruction of someone else is then unknown (404). */
  currentUserSocketHash?: (req: Req) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * The caller's own session (your session id, or a stable id of the JWT): a totp / goldenNumber
   * instruction keeps a hash of the one that triggered it, and submit-response from another is
   * unknown (404). Default: express-session's `req.sessionID`, else the user (`userSocketHash` in
   * the guard, `currentUserSocketHash` in submit-response; with neither, typed codes are refused).
   */
  sessionKey?: (req: Req) => string | null | undefined | Promise<string | null | undefined>;
  handlers?: { [T in AuthEventType]?: CallbackHandler<T> };
  /** Parse JSON bodies into ctx.request.body / req.body (default true). */
  parseJson?: boolean;
  logger?: Logger;
  transport?: TransportOptions;
}

export class BloonioAuth<Req = never> {
  readonly settings: RelaySettings;
  readonly client: RelayClient;
  readonly core: SudoCore;
  readonly store: SudoInstructionStore;
  readonly pendingOps: PendingOpStore;
  readonly callbacks: CallbackRouter;
  private readonly o: BloonioAuthOptions<Req>;
  private readonly log: Logger;
  private static sharedInstance: BloonioAuth<unknown> | null = null;

  constructor(o: BloonioAuthOptions<Req> = {}) {
    this.o = o;
    this.log = o.logger ?? defaultLogger;
    this.settings = o.settings instanceof RelaySettings ? o.settings : new RelaySettings(o.settings);
    this.client = o.client ?? new RelayClient(this.settings, o.transport);
    // One state backend for both stores, named at start (STATE_BACKEND_URL missing → ConfigurationError now).
    const kv = o.store?.kv ?? o.pendingOps?.kv ?? kvFromSettings(this.settings);
    this.store = o.store ?? SudoInstructionStore.fromSettings(this.settings, kv);
    this.pendingOps = o.pendingOps ?? PendingOpStore.fromSettings(this.settings, kv);
    this.core = new SudoCore(this.client, this.store, this.pendingOps, this.log);
    this.callbacks = new CallbackRouter({
      secret: this.settings.tenantSecret,
      tenantId: this.settings.tenantId,
      events: AUTH_EVENT_TYPES,
      handlers: o.handlers as CallbackHandlers,
      replayStore: this.store,
      onlyHandled: true,
      logger: this.log,
    });
  }

  /** Reads `BLOONIO_RELAY_*` (a missing or bad setting throws one ConfigurationError naming each). */
  static fromEnv<Req = never>(o: Omit<BloonioAuthOptions<Req>, 'settings'> = {}): BloonioAuth<Req> {
    return new BloonioAuth<Req>({ ...o, settings: new RelaySettings() });
  }

  /** The process-wide instance from the environment (what the top-level `sudoRequired` uses). */
  static shared(): BloonioAuth<unknown> {
    BloonioAuth.sharedInstance ??= BloonioAuth.fromEnv<unknown>();
    return BloonioAuth.sharedInstance;
  }

  // ----- mounting -----

  /** `app.use(bloonio.koa())`: the callback path, submit-response, the handled callbacks, JSON bodies. */
  koa(): DualMiddleware {
    return this.middleware();
  }

  /** `app.use(bloonio.express())`: the same for Express. */
  express(): DualMiddleware {
    return this.middleware();
  }

  /** The same middleware, for either framework. */
  middleware(): DualMiddleware {
    return dualRoutes((ex) => this.route(ex), { parseJson: this.o.parseJson ?? true });
  }

  private isCallbackPath(path: string): boolean {
    const p = this.settings.callbackPath;
    const other = p.endsWith('/') && p.length > 1 ? p.slice(0, -1) : `${p}/`;
    return path === p || path === other;
  }

  private async route(ex: Exchange): Promise<boolean> {
    if (ex.method !== 'POST') return false;
    if (this.isCallbackPath(ex.path)) {
      ex.send(await this.approvalEvent(ex));
      return true;
    }
    if (ex.path === SUBMIT_RESPONSE_PATH) {
      ex.send(await this.submitResponse(ex));
      return true;
    }
    return this.callbacks.route(ex);
  }

  private async approvalEvent(ex: Exchange) {
    try {
      const ev = verifyCallback(ex.headers, await ex.raw(), this.settings.tenantSecret, { tenantId: this.settings.tenantId });
      return { status: 200, body: await this.core.handleApprovalEvent(ev) };
    } catch (e) {
      if (e instanceof CallbackVerificationError) {
        this.log.warn?.(`refused a callback at ${ex.path}: ${e.reason}`);
        return { status: 401, body: { error: 'INVALID_CALLBACK', reason: e.reason } };
      }
      if (e instanceof SudoResponse) return { status: e.status, body: e.body, headers: e.headers };
      if (e instanceof BodyError) return e.answer;
      throw e;
    }
  }

  private async submitResponse(ex: Exchange) {
    const refused = await ex.parseJson();
    if (refused) return refused;
    const req = ex.request as { request?: { body?: unknown }; body?: unknown };
    const body = req.request !== undefined && 'req' in (ex.request as object) ? req.request.body : req.body;
    try {
      const user = this.o.currentUserSocketHash ? await this.o.currentUserSocketHash(ex.request as Req) : null;
      return { status: 200, body: await this.core.submitResponse(body, user, await this.sessionOf(ex.request)) };
    } catch (e) {
      if (e instanceof SudoResponse) return { status: e.status, body: e.body, headers: e.headers };
      throw e;
    }
  }

  /** The caller's session (sessionKey, or express-session's id), the identity typed codes are bound to. */
  private async sessionOf(req: unknown): Promise<string | null> {
    if (this.o.sessionKey) return (await this.o.sessionKey(req as Req)) || null;
    const id = (req as { sessionID?: unknown } | null)?.sessionID;
    return typeof id === 'string' && id ? `session:${id}` : null;
  }

  // ----- the guard -----

  /**
   * Protects a route: it runs only on a re-call with a validated `X-Sudo-Instruction-Key`, once
   * (see the README for the protocol and its refusals). Koa: `router.post(path, bloonio.sudoRequired({…}), handler)`,
   * the instruction in `ctx.state.sudoInstruction`; Express: `app.post(path, bloonio.sudoRequired({…}), handler)`,
   * in `res.locals.sudoInstruction`. Functions receive Koa's `ctx` or Express's `req`.
   */
  sudoRequired<R = Req>(spec: SudoOptions<R>): DualMiddleware {
    const core = this.core;
    const sessionOf = (req: unknown) => this.sessionOf(req);
    const keyOf = (headers: Record<string, unknown>) => {
      const v = headers[INSTRUCTION_HEADER.toLowerCase()];
      return Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : undefined;
    };
    async function koa(ctx: KoaContextLike, next: KoaNext) {
      let instruction: Instruction;
      try {
        instruction = await core.guard(spec, ctx as R, keyOf(ctx.headers), await sessionOf(ctx));
      } catch (e) {
        if (e instanceof SudoResponse) return koaExchange(ctx).send({ status: e.status, body: e.body, headers: e.headers });
        throw e;
      }
      (ctx.state as { sudoInstruction?: Instruction }).sudoInstruction = instruction;
      await next();
    }
    function express(req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) {
      sessionOf(req)
        .then((session) => core.guard(spec, req as R, keyOf(req.headers), session))
        .then(
          (instruction) => {
            res.locals.sudoInstruction = instruction;
            next();
          },
          (e: unknown) => {
            if (e instanceof SudoResponse) expressExchange(req, res).send({ status: e.status, body: e.body, headers: e.headers });
            else next(e);
          },
        );
    }
    return function sudoRequired(a: unknown, b: unknown, c?: unknown) {
      if (isKoaContext(a, b)) return koa(a, b as KoaNext);
      if (typeof c === 'function') return express(a as ExpressRequestLike, b as ExpressResponseLike, c as ExpressNext);
      throw new TypeError('sudoRequired: use it as Koa or Express route middleware');
    } as DualMiddleware;
  }

  // ----- other callbacks -----

  /** Handles one of the Auth Relay's other callbacks (its path is then answered). */
  on<T extends AuthEventType>(type: T, handler: CallbackHandler<T>): this {
    this.callbacks.on(type, handler);
    return this;
  }

  // ----- quorum / cross-organisation -----

  /** `bloonio.onApproved('delete_project', async (op) => …)`: the server-side replay, run once when approved. */
  onApproved<P = Record<string, unknown>>(action: string, replay: Replay<P>): this {
    this.core.onApproved(action, replay);
    return this;
  }

  /** Keeps the mutation, dispatches the sudo event; answer 202 with the result `{status: "pending_approval", instruction_id, …}`. */
  requestQuorum(action: string, payload: Record<string, unknown>, o: QuorumOptions): Promise<QuorumAccepted> {
    return this.core.requestQuorum(action, payload, o);
  }

  pendingOp(opId: string): Promise<PendingOp | null> {
    return this.pendingOps.get(opId);
  }

  /** Closes the state backend's connection (when the SDK opened it). */
  async close(): Promise<void> {
    await this.store.close();
  }
}

/** `sudoRequired({...})` on the process-wide BloonioAuth (`BloonioAuth.shared()`, from `BLOONIO_RELAY_*`). */
export function sudoRequired<R = never>(spec: SudoOptions<R>): DualMiddleware {
  return (BloonioAuth.shared() as BloonioAuth<R>).sudoRequired(spec);
}
