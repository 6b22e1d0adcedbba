/**
 * The ops surface: /healthz (alive), /readyz (Redis and MongoDB reachable), /metrics (Prometheus),
 * /admin/queues (bull-board, behind the admin key; Basic auth with the key as password works in a
 * browser), /api/v1/openapi.json and /docs (a readable reference rendered from it).
 */
import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Middleware } from 'koa';
import mongoose from 'mongoose';
import { redisKey } from '../../platform/keys.js';
import type { Metrics } from '../../platform/metrics.js';
import type { AppDeps, AppState } from '../context.js';
import { DOCS_HTML } from './docs-page.js';
import { adminAuth } from '../principals/admin.js';

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

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
      withTimeout(mongoose.connection.db ? mongoose.connection.db.admin().ping() : Promise.reject(new Error('down')), 1000).then(
        () => 'ok',
        () => 'unavailable',
      ),
    ]);
    const ready = redis === 'ok' && mongodb === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', redis, mongodb };
  });

  router.get('/metrics', async (ctx) => {
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

/** bull-board for every queue, mounted at /admin/queues behind the admin key. */
export function queueDashboard(deps: AppDeps): Middleware<AppState> {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: [...deps.producer.queues.values()].map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Bloonio Relay' } },
  });
  const board = serverAdapter.registerPlugin() as unknown as Middleware<AppState>;
  const guard = adminAuth(deps.config.adminApiKeys, { allowBasic: true });
  return async (ctx, next) => {
    if (ctx.path !== '/admin/queues' && !ctx.path.startsWith('/admin/queues/')) return next();
    ctx.state.routeTemplate = '/admin/queues';
    await guard(ctx, () => board(ctx, next));
    // bull-board's page loads its fonts from an outside host: an ops page behind the admin key must
    // not tell a third party who opens it, nor need the Internet. The system fonts do.
    if (typeof ctx.body === 'string' && ctx.response.is('html')) ctx.body = ctx.body.replace(OUTSIDE_STYLESHEET, '');
  };
}
