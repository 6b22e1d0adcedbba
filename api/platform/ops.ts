/**
 * The ops surface: /healthz (alive), /readyz (Redis and MongoDB reachable), /metrics (Prometheus,
 * behind METRICS_TOKEN or the admin key), /admin/queues (bull-board, behind the admin key; Basic auth
 * with the key as password works in a browser; read-only unless QUEUE_DASHBOARD_ACTIONS),
 * /api/v1/openapi.json and /docs (a readable reference rendered from it).
 */
import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Middleware } from 'koa';
import { redisKey } from '../../platform/keys.js';
import { pingMongo } from '../../platform/mongo.js';
import type { Metrics } from '../../platform/metrics.js';
import { withTimeout } from '../../platform/with-timeout.js';
import type { AppDeps, AppState } from '../context.js';
import { DOCS_HTML } from './docs-page.js';
import { ApiError } from '../errors.js';
import { adminAuth, adminKeyMatches } from '../principals/admin.js';

export function opsRouter(deps: AppDeps, metrics: Metrics, openapi: () => unknown): Router<AppState> {
  const router = new Router<AppState>();

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const [redis, mongodb] = await Promise.all([
      withTimeout(deps.redis.ping(), 1000).then(
        () => 'ok',
        () => 'unavailable',
      ),
      withTimeout(pingMongo(), 1000).then(
        () => 'ok',
        () => 'unavailable',
      ),
    ]);
    const ready = redis === 'ok' && mongodb === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', redis, mongodb };
  });

  // Queue depths, tenants' delivery outcomes and heap numbers are reconnaissance: a scraper shows a
  // token (METRICS_TOKEN, or the admin key), unless the operator opened the endpoint on purpose.
  const metricsToken = deps.config.metricsToken;
  const scrapeKeys = metricsToken && metricsToken !== 'open' ? [metricsToken, ...deps.config.adminApiKeys] : deps.config.adminApiKeys;
  router.get('/metrics', async (ctx) => {
    if (metricsToken !== 'open') {
      const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? ctx.get('x-admin-key');
      if (!adminKeyMatches(scrapeKeys, bearer)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="Bloonio Relay metrics"');
        throw new ApiError('INVALID_TOKEN', 'Scraping /metrics needs Authorization: Bearer <METRICS_TOKEN or admin key>.');
      }
    }
    // Fleet-wide numbers from Redis; a Redis outage leaves them out rather than failing the scrape.
    try {
      for (const [name, queue] of deps.producer.queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
        for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ queue: name, state }, n);
      }
      const outcomes = await deps.redis.hgetall(redisKey.deliveryOutcomes(deps.config.queuePrefix));
      for (const [outcome, n] of Object.entries(outcomes)) metrics.deliveries.set({ outcome }, Number(n));
    } catch {
      /* scrape what we have */
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.body = openapi();
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = DOCS_HTML;
  });
  return router;
}

const OUTSIDE_STYLESHEET = /<link[^>]+href="https:\/\/fonts\.(googleapis|gstatic)\.com[^>]*>/g;

/** What bull-board's API may do without QUEUE_DASHBOARD_ACTIONS: read. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * bull-board for every queue, mounted at /admin/queues behind the admin key. Read-only unless
 * QUEUE_DASHBOARD_ACTIONS: a job's data is what a worker acts on (the delivery worker signs a job's
 * body with the tenant's secret), so adding or editing jobs is a way around every API check. Each
 * queue adapter is in bull-board's readOnlyMode (its buttons are gone, its action routes answer 405),
 * and this guard refuses every non-read method before bull-board sees it, whatever bull-board adds.
 */
export function queueDashboard(deps: AppDeps): Middleware<AppState> {
  const actions = deps.config.queueDashboardActions;
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: [...deps.producer.queues.values()].map((q) => new BullMQAdapter(q, { readOnlyMode: !actions })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Bloonio Relay' } },
  });
  const board = serverAdapter.registerPlugin() as unknown as Middleware<AppState>;
  const guard = adminAuth(deps.config.adminApiKeys, { allowBasic: true });
  return async (ctx, next) => {
    if (ctx.path !== '/admin/queues' && !ctx.path.startsWith('/admin/queues/')) return next();
    ctx.state.routeTemplate = '/admin/queues';
    await guard(ctx, () => {
      if (!actions && !READ_METHODS.has(ctx.method)) {
        ctx.set('Allow', 'GET, HEAD');
        throw new ApiError('METHOD_NOT_ALLOWED', 'The queue dashboard is read-only (QUEUE_DASHBOARD_ACTIONS is off).');
      }
      return board(ctx, next);
    });
    // bull-board's page loads its fonts from an outside host: an ops page behind the admin key must
    // not tell a third party who opens it, nor need the Internet. The system fonts do.
    if (typeof ctx.body === 'string' && ctx.response.is('html')) ctx.body = ctx.body.replace(OUTSIDE_STYLESHEET, '');
  };
}
