/**
 * Route definitions. Each route file declares its zod schemas, its handler and its security kind in
 * one object; `mountRoutes` turns them into Koa routes and `buildOpenApi` (api/openapi.ts) into the
 * OpenAPI document, so the reference can never drift from what the code validates.
 *
 * Principals at mount: the route's `security` kind picks the middleware that authenticates the caller
 * (api/principals/), and the handler receives that caller as `principal`, typed for its kind. A
 * handler never authenticates anyone itself.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { AppContext, AppDeps, AppState } from './context.js';
import { validationError } from './errors.js';
import { requireStepUp } from './principals/console.js';
import type { PrincipalOf, Security } from './principals/types.js';
import type { Role } from '../models/console/workspace.js';

export type { Security } from './principals/types.js';

export type Success<T> = { status?: number; message: string; data: T };

/** What every route answers on success (the error envelope is api/errors.ts's ErrorEnvelope). */
export type SuccessEnvelope<T> = { success: true; status_code: number; message: string; data: T };

export type RouteDef<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
  S extends Security = Security,
> = {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Path under /api/v1. */
  path: string;
  summary: string;
  /** A few sentences at most: long explanations belong in the page named by `docs`. */
  description?: string;
  /** Where the docs explain this route at length: a page under docs/ with its anchor, e.g. `api.md#sudo-dispatch`. */
  docs?: string;
  tags: string[];
  security: S;
  body?: B;
  query?: Q;
  /** Schema of `data` in the success envelope. */
  response: R;
  successStatus?: number;
  /** Other success statuses the handler may answer with (e.g. 200 for an idempotent repeat of a 201), documented alike. */
  otherSuccessStatuses?: number[];
  /**
   * Extra error statuses worth listing in the reference, beyond the ones every route of its security
   * kind has; as a record, each with when it happens (e.g. `{ 410: 'the token was used or expired' }`).
   * Every status a handler can answer must be listed: the fuzzer fails on an undocumented one.
   */
  errors?: number[] | Partial<Record<number, string>>;
  /**
   * Console routes acting on a workspace: the least role the caller needs in the workspace named by
   * `?workspace_id=`. The console principal (api/principals/console.ts) checks it, the one place
   * roles are checked; the handler then receives `principal.workspace`.
   */
  consoleRole?: Role;
  /**
   * Console routes doing something sensitive (rotating a secret, changing where callbacks go,
   * making owners): the session must have proven the password or a TOTP code within
   * CONSOLE_STEP_UP_SECONDS, else 403 STEP_UP_REQUIRED. `true` for every call, or a rule over the
   * validated body for routes where only some changes are sensitive. Checked here, at mount.
   */
  consoleStepUp?: true | ((body: z.infer<B>) => boolean);
  handler: (
    ctx: AppContext,
    input: { body: z.infer<B>; query: z.infer<Q>; deps: AppDeps; principal: PrincipalOf[S] },
  ) => Promise<Success<z.infer<R>>>;
};

/** Identity helper that keeps the generic types of one route together. */
export function defineRoute<
  S extends Security,
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  R extends z.ZodType = z.ZodType,
>(def: RouteDef<B, Q, R, S>): RouteDef<B, Q, R, S> {
  return def;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous list of routes
export type AnyRoute = RouteDef<any, any, any, any>;

/**
 * A route's wire types, for the browser code and tests (type-only imports, erased from bundles): what
 * a client sends — the body's or the query's input, so fields with a default may be left out — and
 * the `data` of the success envelope it gets back.
 */
export type RequestBody<R extends AnyRoute> = z.input<NonNullable<R['body']>>;
export type RequestQuery<R extends AnyRoute> = z.input<NonNullable<R['query']>>;
export type ResponseData<R extends AnyRoute> = z.output<R['response']>;

/**
 * Mounts every route on `router` (which also answers 405/OPTIONS for their paths: middleware/
 * methods.ts) and returns the fast path in front of it: every relay route has a static path, so the
 * request's method and path find its middleware in one Map lookup instead of @koa/router testing
 * each route's regular expression in turn (measured: most of the per-request cost of routing).
 */
export function mountRoutes(
  router: Router<AppState>,
  routes: AnyRoute[],
  deps: AppDeps,
  principals: Record<Security, Middleware<AppState>>,
): Middleware<AppState> {
  const table = new Map<string, Middleware<AppState>>();
  for (const route of routes) {
    const auth = principals[route.security as Security];
    if (!auth) throw new Error(`route ${route.method} ${route.path}: unknown security kind ${String(route.security)}`);
    const handle: Middleware<AppState> = async (ctx) => {
      const principal = ctx.state.principal;
      // The kind's middleware always sets its principal; a mismatch is a wiring bug, never a caller's doing.
      if (principal?.kind !== route.security) throw new Error(`route ${route.path}: principal ${principal?.kind} for ${route.security}`);
      // Step-up for every call is checked before the input (as the principal is); a rule over the body after it.
      if (principal?.kind === 'console' && route.consoleStepUp === true) requireStepUp(deps, principal);
      // Only an absent body reads as {}: a JSON null (or any other value) is validated as sent.
      const sent = ctx.state.rawBody && ctx.state.rawBody.length > 0 ? ctx.state.body : {};
      const body = route.body ? parse(route.body, sent, 'body') : undefined;
      const query = route.query ? parse(route.query, ctx.query, 'query string') : undefined;
      if (principal?.kind === 'console' && typeof route.consoleStepUp === 'function' && route.consoleStepUp(body))
        requireStepUp(deps, principal);
      const result = await route.handler(ctx as AppContext, { body, query, deps, principal });
      const status = result.status ?? route.successStatus ?? 200;
      ctx.status = status;
      ctx.body = { success: true, status_code: status, message: result.message, data: result.data } satisfies SuccessEnvelope<unknown>;
    };
    const path = `/api/v1${route.path}`;
    const template: Middleware<AppState> = async (ctx, next) => {
      ctx.state.routeTemplate = path;
      ctx.state.consoleRole = route.consoleRole;
      return next();
    };
    router[route.method](path, template, auth, handle);
    const key = `${route.method.toUpperCase()} ${path}`;
    if (table.has(key)) throw new Error(`route ${key} is defined twice`);
    const done = async () => undefined;
    table.set(key, (ctx) => template(ctx, () => auth(ctx, () => handle(ctx, done))));
  }
  return (ctx, next) => {
    const hit = table.get(`${ctx.method} ${ctx.path}`);
    return hit ? hit(ctx, next) : next();
  };
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}

/** Query-string helpers: values arrive as strings. */
export const q = {
  int: (min: number, max: number, dflt: number) => z.coerce.number().int().min(min).max(max).default(dflt),
  tenantId: () => z.string().regex(/^tnt_[0-9a-f]{24}$/, 'must be a tenant id (tnt_…)'),
};
