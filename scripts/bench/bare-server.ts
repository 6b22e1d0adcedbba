/**
 * The signed-call bench's baseline (signed.ts): a bare Koa app with the relay's own body parser (api/middleware/body.ts)
 * and one POST route answering a small JSON envelope. No auth, no Redis, no MongoDB. Prints
 * `{"listening":PORT}` once it listens.
 */
import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { AppState } from '../../api/context.js';
import { bodyMiddleware } from '../../api/middleware/body.js';

const app = new Koa<AppState>();
const router = new Router<AppState>();
router.post('/api/v1/bench/bare', (ctx) => {
  ctx.status = 202;
  ctx.body = { success: true, status_code: 202, message: 'ok', data: { received: ctx.state.rawBody?.length ?? 0 } };
});
app.use(bodyMiddleware(256 * 1024));
app.use(router.routes());

const server = http.createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`);
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
