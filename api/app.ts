/**
 * The Koa application: request id / logging / error envelope, the queue dashboard, the body
 * parser, the ops routes, then the API routes with their auth. Built from its dependencies so
 * tests and benchmarks can build one in-process.
 */
import Router from '@koa/router';
import Koa from 'koa';
import { clientIp } from '../platform/client-ip.js';
import { createMetrics, type Metrics } from '../platform/metrics.js';
import type { AppDeps, AppState } from './context.js';
import { bodyMiddleware } from './middleware/body.js';
import { chatCors } from './chat/cors.js';
import { principalMiddlewares } from './principals/index.js';
import { passkeysDemoRoutes } from './dev/passkeys-demo.js';
import { webAssets } from './chat/web-assets.js';
import { methodGuard } from './middleware/methods.js';
import { requestMiddleware } from './middleware/request.js';
import { buildOpenApi } from './openapi.js';
import { opsRouter, queueDashboard } from './platform/ops.js';
import { mountRoutes, type AnyRoute } from './route.js';
import { ROUTES } from './routes.js';

export const API_VERSION = '0.1.0';

export function buildApp(deps: AppDeps, opts: { routes?: AnyRoute[]; metrics?: Metrics } = {}): Koa<AppState> {
  const routes = opts.routes ?? ROUTES;
  const metrics = opts.metrics ?? createMetrics();
  const hops = deps.config.trustProxyHops;
  // `proxy` still lets X-Forwarded-Proto/Host through behind a router; maxIpsCount keeps ctx.ips to our proxies' entries.
  const app = new Koa<AppState>({ proxy: deps.config.trustProxy, maxIpsCount: hops });

  let openapi: unknown;
  const router = new Router<AppState>();
  const routeTable = mountRoutes(router, routes, deps, principalMiddlewares(deps));

  // One client IP for every per-IP limit: the configured hops from the right (platform/client-ip.ts), never the leftmost.
  app.use((ctx, next) => {
    ctx.request.ip = clientIp(ctx.req, hops);
    return next();
  });
  app.use(requestMiddleware(deps, metrics));
  // Public chat routes answer browsers' CORS preflights (api/chat/cors.ts).
  app.use(chatCors());
  app.use(webAssets(deps)); // widget.js, inbox.js, /inbox, dev demo pages (api/chat/web-assets.ts)
  // The dashboard has its own body parser, so it goes before ours.
  app.use(queueDashboard(deps));
  app.use(bodyMiddleware(deps.config.bodyLimitBytes));
  const ops = opsRouter(deps, metrics, () => (openapi ??= buildOpenApi(routes, API_VERSION)));
  app.use(ops.routes());
  if (deps.config.devPages) app.use(passkeysDemoRoutes(deps).routes()); // development only (RELAY_DEV_PAGES)
  app.use(routeTable); // the relay's routes, by method and path (one Map lookup)
  app.use(router.routes()); // the same routes again: what answers 405 and OPTIONS for their paths
  app.use(methodGuard());
  return app;
}
