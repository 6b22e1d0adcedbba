/**
 * Prometheus metrics. HTTP metrics are per process (Prometheus scrapes each web process); queue
 * depths and delivery outcomes are read from Redis at scrape time, so any web process reports the
 * whole fleet's numbers, including what the worker processes did.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'relay_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'relay_http_request_duration_seconds',
    help: 'HTTP request duration by route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const queueJobs = new Gauge({
    name: 'relay_queue_jobs',
    help: 'Jobs per queue and state (read from Redis at scrape time)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });
  const deliveries = new Gauge({
    name: 'relay_callback_deliveries_total',
    help: 'Callback delivery attempts by outcome, fleet-wide (a counter kept in Redis)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const logLinesSkipped = new Counter({
    name: 'relay_log_lines_skipped_total',
    help: 'Client-error log lines left out by the per-process log budget (a flood of 4xx requests)',
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, queueJobs, deliveries, logLinesSkipped };
}
export type Metrics = ReturnType<typeof createMetrics>;
