/**
 * A fast local callback receiver for the benchmarks (a separate process, so its CPU is not the
 * bench driver's). Prints `{"listening":PORT}` once it listens.
 *   POST /ok/...    drains the body, answers 200 `{"ok":true}`, counts X-Bloonio-Event-Id per X-Bloonio-Tenant-Id
 *   POST /hang/...  never answers (a dead-slow endpoint); the relay's CALLBACK_TIMEOUT_MS ends each attempt
 *   GET  /stats     {total, distinct, first_ms, last_ms, hanging_open, hanging_total, tenants: {id: {distinct, first_ms, last_ms}}}
 *   POST /reset     forgets everything counted so far
 * It does not verify signatures (the callback tests do); it measures arrival only.
 */
import http from 'node:http';

type Counts = { ids: Set<string>; first: number; last: number };
let total = 0;
let firstMs = 0;
let lastMs = 0;
let hangingTotal = 0;
const ids = new Set<string>();
const tenants = new Map<string, Counts>();
const hanging = new Set<http.ServerResponse>();

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/stats') {
    const t: Record<string, { distinct: number; first_ms: number; last_ms: number }> = {};
    for (const [id, c] of tenants) t[id] = { distinct: c.ids.size, first_ms: c.first, last_ms: c.last };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        total,
        distinct: ids.size,
        first_ms: firstMs,
        last_ms: lastMs,
        hanging_open: hanging.size,
        hanging_total: hangingTotal,
        tenants: t,
      }),
    );
    return;
  }
  if (req.method === 'POST' && url === '/reset') {
    total = 0;
    firstMs = lastMs = 0;
    hangingTotal = 0;
    ids.clear();
    tenants.clear();
    req.resume();
    res.end('{}');
    return;
  }
  if (req.method === 'POST' && url.startsWith('/hang/')) {
    hangingTotal++;
    req.resume();
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    return; // never answered
  }
  if (req.method === 'POST' && url.startsWith('/ok/')) {
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      const eventId = String(req.headers['x-bloonio-event-id'] ?? '');
      const tenantId = String(req.headers['x-bloonio-tenant-id'] ?? '');
      total++;
      if (!firstMs) firstMs = now;
      lastMs = now;
      if (eventId) {
        ids.add(eventId);
        let c = tenants.get(tenantId);
        if (!c) tenants.set(tenantId, (c = { ids: new Set(), first: now, last: now }));
        c.ids.add(eventId);
        c.last = now;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      res.end('{"ok":true}');
    });
    return;
  }
  req.resume();
  res.writeHead(404).end();
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.RECEIVER_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`);
});
const stop = () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
