/**
 * The `web` process (Procfile): the Koa API. Scales horizontally; every piece of shared state
 * (replay window, rate limits, tenant generations, queues) is in Redis or MongoDB.
 */
import { setStoreWriteTimeout } from '../models/platform/batch-insert.js';
import { TenantStore } from '../models/platform/tenant-store.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectMongo, disconnectMongo } from '../platform/mongo.js';
import { checkRedisDurability } from '../platform/redis-durability.js';
import { apiRedis, waitReady } from '../platform/redis.js';
import { Producer } from '../queues/producer.js';
import { buildApp } from './app.js';
import { createHttpServer } from './http-server.js';
import { attachChatSockets } from './chat/ws/sockets.js';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'web');

/** MongoDB may be down at start: keep trying in the background while /readyz says not ready. */
async function connectWithRetry(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await connectMongo(config.mongodbUri);
      return;
    } catch (err) {
      logger.warn({ attempt, err: String(err) }, 'MongoDB not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * attempt)));
    }
  }
}

async function main(): Promise<void> {
  const redis = apiRedis(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: String(err) }, 'redis error'));
  const producer = new Producer(config, redis);
  const tenants = new TenantStore(redis, config.secretsMasterKey, config.queuePrefix);
  void waitReady(redis, 30_000)
    .then(() => checkRedisDurability(redis, logger))
    .catch(() => undefined);
  // Listen at once, even while MongoDB is unreachable: requests then get a quick 503, /readyz says
  // not ready, and the PaaS router keeps the process instead of crash-looping it.
  setStoreWriteTimeout(config.storeWriteTimeoutMs);
  void connectWithRetry();
  const app = buildApp({ config, logger, redis, producer, tenants });
  if (!config.fcmServiceAccountJson)
    logger.warn(
      'FCM_SERVICE_ACCOUNT_JSON is not set: Auth Relay push is off; devices get approval requests by polling GET /device/requests',
    );
  const server = createHttpServer(app.callback(), { headersTimeoutMs: config.chatWsHandshakeTimeoutMs });
  server.keepAliveTimeout = 65_000; // longer than common PaaS router idle timeouts
  const chatSockets = attachChatSockets(server, { config, logger, redis, producer, tenants });
  server.listen(config.port, () => {
    const addr = server.address();
    logger.info({ port: typeof addr === 'object' && addr ? addr.port : config.port }, 'web listening');
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'web stopping');
    // Armed first: closing the sockets or a store that is down must not keep the process past the deadline.
    const deadline = setTimeout(() => process.exit(0), config.workerShutdownTimeoutMs).unref();
    await chatSockets.close();
    server.close();
    server.closeIdleConnections();
    await producer.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await disconnectMongo().catch(() => undefined);
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err: String(err) }, 'web failed to start');
  process.exit(1);
});
