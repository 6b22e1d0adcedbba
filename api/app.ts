/**
 * The Koa application: request id / logging / error envelope, the queue dashboard, the body
 * parser, the ops routes, then the API routes with their auth. Built from its dependencies so
 * tests and benchmarks can build one in-process.
 */
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { createMetrics, type Metrics } from '../platform/metrics.js';
import type { AppDeps, AppState } from './context.js';
import { adminAuth } from './principals/admin.js';
import { bodyMiddleware } from './middleware/body.js';
import { chatCors } from './chat/cors.js';
import { hmacAuth } from './principals/hmac.js';
import { methodGuard } from './middleware/methods.js';
import { requestMiddleware } from './middleware/request.js';
import { buildOpenApi } from './openapi.js';
import { opsRouter, queueDashboard } from './platform/ops.js';
import { mountRoutes, type AnyRoute, type Security } from './route.js';
import { ROUTES } from './routes.js';

export const API_VERSION = '0.1.0';

export function buildApp(deps: AppDeps, opts: { routes?: AnyRoute[]; metrics?: Metrics } = {}): Koa<AppState> {
  const routes = opts.routes ?? ROUTES;
  const metrics = opts.metrics ?? createMetrics();
  const app = new Koa<AppState>({ proxy: deps.config.trustProxy });

  const none: Middleware<AppState>[] = [];
  const auth: Record<Security, Middleware<AppState>[]> = {
    admin: [adminAuth(deps.config.adminApiKeys)],
    hmac: [hmacAuth(deps)],
    // Bearer kinds are checked by each route's own middleware (the token type decides how).
    device: none,
    visitor: none,
    operator: none,
    console: none,
    none,
  };

  let openapi: unknown;
  const router = new Router<AppState>();
  mountRoutes(router, routes, deps, auth);

  app.use(requestMiddleware(deps, metrics));
  // Public chat routes answer browsers' CORS preflights (api/chat/cors.ts).
  app.use(chatCors());
  // The dashboard has its own body parser, so it goes before ours.
  app.use(queueDashboard(deps));
  app.use(bodyMiddleware(deps.config.bodyLimitBytes));
  const ops = opsRouter(deps, metrics, () => (openapi ??= buildOpenApi(routes, API_VERSION)));
  app.use(ops.routes());
  app.use(router.routes());
  app.use(methodGuard());
  return app;
}
