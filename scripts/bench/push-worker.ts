/**
 * The push benchmark's worker process: workers/index.ts for the `push` queue, with FCM and Google's
 * token endpoint routed to the benchmark's fake (test/fakes/fcm-server.ts) through its agent — the one
 * thing the production worker cannot be given from the environment. A process of its own, so the
 * worker does not share an event loop with the load generator. Logs "workers started" when ready.
 * Env: the relay's, plus BENCH_FAKE_FCM_PORT and BENCH_FAKE_FCM_CA (PEM).
 */
import { TenantStore } from '../../models/platform/tenant-store.js';
import { loadConfigOrExit } from '../../platform/config.js';
import { createLogger } from '../../platform/logger.js';
import { connectMongo, disconnectMongo } from '../../platform/mongo.js';
import { createOutboundHttp } from '../../platform/outbound-http.js';
import { apiRedis, workerRedis } from '../../platform/redis.js';
import { Producer } from '../../queues/producer.js';
import { FakeGoogleAgent } from '../../test/fakes/fcm-server.js';
import { createProcessors } from '../../workers/processors.js';
import { startWorkers } from '../../workers/runtime.js';

const config = loadConfigOrExit();
const logger = createLogger('info', 'bench-push-worker');
await connectMongo(config.mongodbUri);
const redis = workerRedis(config.redisUrl);
const producer = new Producer(config, apiRedis(config.redisUrl));
const agent = new FakeGoogleAgent(Number(process.env.BENCH_FAKE_FCM_PORT), process.env.BENCH_FAKE_FCM_CA ?? '');
const http = createOutboundHttp({ timeoutMs: 2000, allowPrivateNetworks: true });
const fleet = await startWorkers(
  config,
  logger,
  createProcessors({
    config,
    logger,
    redis,
    tenants: new TenantStore(redis, config.secretsMasterKey, config.queuePrefix),
    http,
    producer,
    fcmHttpAgent: agent,
  }),
  { queues: ['push'] },
);
const stop = async () => {
  await fleet.close();
  await producer.close();
  http.close();
  agent.destroy();
  redis.disconnect();
  await disconnectMongo();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
