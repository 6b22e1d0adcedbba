/**
 * The outermost middleware: request id, access log, HTTP metrics, and the one place where anything
 * thrown becomes the error envelope (SPEC §0). Unknown errors are logged in full and answered 500
 * without internals; a store outage is answered 503.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { ApiError, asApiError, errorEnvelope } from '../errors.js';
import { isStoreUnavailable } from '../../platform/mongo.js';
import type { Metrics } from '../../platform/metrics.js';
import type { AppDeps, AppState } from '../context.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export function requestMiddleware(deps: AppDeps, metrics: Metrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : `req_${randomUUID()}`;
    ctx.state.requestId = requestId;
    ctx.state.log = deps.logger.child({ request_id: requestId });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
      }
    } catch (thrown) {
      const err = toApiError(thrown);
      if (err.code === 'INTERNAL_ERROR') ctx.state.log.error({ err: thrown }, 'unhandled error');
      if (err.code === 'STORE_UNAVAILABLE') ctx.state.log.warn({ err: String(thrown) }, 'store unavailable');
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = errorEnvelope(err, requestId);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = ctx.state.routeTemplate ?? (ctx.status === 404 ? 'unmatched' : ctx.path);
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
      // The query string is left out: it can carry a tenant id but never a secret; the path is enough.
      ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    }
  };
}

function toApiError(thrown: unknown): ApiError {
  const known = asApiError(thrown);
  if (known) return known;
  if (isStoreUnavailable(thrown) || isRedisUnavailable(thrown)) {
    return new ApiError('STORE_UNAVAILABLE', 'The relay store is unavailable; try again shortly.', [], { 'Retry-After': '5' });
  }
  const status = (thrown as { status?: number; expose?: boolean }).status;
  if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (status === 405) return new ApiError('METHOD_NOT_ALLOWED', 'This method is not allowed on this route.');
  return new ApiError('INTERNAL_ERROR', 'An unexpected error occurred.');
}

function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|enableOfflineQueue/i.test(err.message)
  );
}
