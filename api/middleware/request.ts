/**
 * The outermost middleware: request id, access log, HTTP metrics, and the one place where anything
 * thrown becomes the error envelope (docs/contract.md §0). Unknown errors are logged in full and answered 500
 * without internals; a store outage is answered 503.
 *
 * Nothing a caller chooses becomes a metric label or an unbounded log volume: the route label is the
 * matched route's template (or one fixed `unmatched`), the method label one of the methods the relay
 * implements (or `OTHER`), and client errors (4xx, and 501 for an unknown method) are logged
 * without stacks through a per-process log budget, so a flood of bad requests costs neither memory
 * in /metrics nor the log.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { ApiError, asApiError, errorEnvelope, storeOutage } from '../errors.js';
import { LogBudget } from '../../platform/log-budget.js';
import type { Metrics } from '../../platform/metrics.js';
import type { AppDeps, AppState } from '../context.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;
const LABELLED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Client-error and store-outage lines: 20 a second on average, bursts of 100. */
export const CLIENT_ERROR_LINES_PER_SEC = 20;
export const CLIENT_ERROR_BURST = 100;

/** The route template @koa/router matched (ops routes included), never the raw path. */
function routeLabel(ctx: { state: AppState; _matchedRoute?: unknown }): string {
  if (ctx.state.routeTemplate) return ctx.state.routeTemplate;
  return typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
}

export function requestMiddleware(deps: AppDeps, metrics: Metrics): Middleware<AppState> {
  const budget = new LogBudget(CLIENT_ERROR_LINES_PER_SEC, CLIENT_ERROR_BURST);
  const infoOn = deps.logger.isLevelEnabled('info');
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : `req_${randomUUID()}`;
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests log one line at most (none below the level).
    let log: AppState['log'] | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (log ??= deps.logger.child({ request_id: requestId })),
      configurable: true,
      enumerable: true,
    });
    ctx.set('X-Request-Id', requestId);
    let outage: string | undefined;
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
      }
    } catch (thrown) {
      const err = toApiError(thrown);
      if (err.code === 'INTERNAL_ERROR') ctx.state.log.error({ err: thrown }, 'unhandled error');
      if (err.code === 'STORE_UNAVAILABLE') outage = String(thrown);
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = errorEnvelope(err, requestId);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(ctx);
      const method = LABELLED_METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      metrics.httpRequests.inc({ method, route, status: String(ctx.status) });
      metrics.httpDuration.observe({ method, route }, seconds);
      // The query string is left out: it can carry a tenant id but never a secret; the path is enough.
      // The path is cut short: it is the caller's text.
      const line = { method, path: ctx.path.slice(0, 200), status: ctx.status, ms: Math.round(seconds * 1e4) / 10 };
      // 501 is the caller's doing too (a method the relay does not implement, e.g. TRACE): budgeted
      // like a 4xx, or a flood of unknown methods would be a flood of log lines.
      const callerCaused = (ctx.status >= 400 && ctx.status < 500) || ctx.status === 501;
      if (callerCaused) {
        logBudgeted(budget, metrics, (skipped) => ctx.state.log.info(skipped ? { ...line, log_lines_skipped: skipped } : line, 'request'));
      } else if (outage) {
        logBudgeted(budget, metrics, () => ctx.state.log.warn({ ...line, err: outage }, 'store unavailable'));
      } else if (infoOn) {
        ctx.state.log.info(line, 'request');
      }
    }
  };
}

function logBudgeted(budget: LogBudget, metrics: Metrics, write: (skipped: number) => void): void {
  const skipped = budget.take();
  if (skipped === null) metrics.logLinesSkipped.inc();
  else write(skipped);
}

function toApiError(thrown: unknown): ApiError {
  const known = asApiError(thrown) ?? storeOutage(thrown);
  if (known) return known;
  const status = (thrown as { status?: number; expose?: boolean }).status;
  if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (status === 400) return new ApiError('BAD_REQUEST', 'The request could not be read.');
  return new ApiError('INTERNAL_ERROR', 'An unexpected error occurred.');
}
