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
import type { PrincipalOf, Security } from './principals/types.js';

export type { Security } from './principals/types.js';

export type Success<T> = { status?: number; message: string; data: T };

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
  description?: string;
  tags: string[];
  security: S;
  body?: B;
  query?: Q;
  /** Schema of `data` in the success envelope. */
  response: R;
  successStatus?: number;
  /** Other success statuses the handler may answer with (e.g. 200 for an idempotent repeat of a 201), documented alike. */
  otherSuccessStatuses?: number[];
  /** Extra error statuses worth listing in the reference, beyond the ones every route of its security kind has. */
  errors?: number[];
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

export function mountRoutes(
  router: Router<AppState>,
  routes: AnyRoute[],
  deps: AppDeps,
  principals: Record<Security, Middleware<AppState>>,
): void {
  for (const route of routes) {
    const auth = principals[route.security as Security];
    if (!auth) throw new Error(`route ${route.method} ${route.path}: unknown security kind ${String(route.security)}`);
    const handle: Middleware<AppState> = async (ctx) => {
      const principal = ctx.state.principal;
      // The kind's middleware always sets its principal; a mismatch is a wiring bug, never a caller's doing.
      if (principal?.kind !== route.security) throw new Error(`route ${route.path}: principal ${principal?.kind} for ${route.security}`);
      const body = route.body ? parse(route.body, ctx.state.body ?? {}, 'body') : undefined;
      const query = route.query ? parse(route.query, ctx.query, 'query string') : undefined;
      const result = await route.handler(ctx as AppContext, { body, query, deps, principal });
      const status = result.status ?? route.successStatus ?? 200;
      ctx.status = status;
      ctx.body = { success: true, status_code: status, message: result.message, data: result.data };
    };
    const template: Middleware<AppState> = async (ctx, next) => {
      ctx.state.routeTemplate = `/api/v1${route.path}`;
      return next();
    };
    router[route.method](`/api/v1${route.path}`, template, auth, handle);
  }
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
