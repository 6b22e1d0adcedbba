/**
 * The `worker` process (Procfile): BullMQ workers for every queue. Scales horizontally: run as many
 * as needed; all state is in Redis and MongoDB. SIGTERM/SIGINT close it cleanly within
 * WORKER_SHUTDOWN_TIMEOUT_MS (a PaaS gives ~30 s before SIGKILL).
 */
import { setStoreWriteTimeout } from '../models/platform/batch-insert.js';
import { TenantStore } from '../models/platform/tenant-store.js';
import { createOutboundHttp } from '../platform/outbound-http.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { connectMongo, disconnectMongo } from '../platform/mongo.js';
import { apiRedis, workerRedis } from '../platform/redis.js';
import { Producer } from '../queues/producer.js';
import { createProcessors } from './processors.js';
import { startWorkers } from './runtime.js';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, 'worker');

async function main(): Promise<void> {
  setStoreWriteTimeout(config.storeWriteTimeoutMs);
  await connectMongo(config.mongodbUri);
  const redis = workerRedis(config.redisUrl);
  const producer = new Producer(config, apiRedis(config.redisUrl));
  const tenants = new TenantStore(redis, config.secretsMasterKey, config.queuePrefix);
  const http = createOutboundHttp({ timeoutMs: config.callbackTimeoutMs, allowPrivateNetworks: config.callbackAllowPrivateNetworks });
  if (config.callbackAllowPrivateNetworks)
    logger.warn('CALLBACK_ALLOW_PRIVATE_NETWORKS=true: callbacks may reach private addresses (development only)');
  const fleet = await startWorkers(config, logger, createProcessors({ config, logger, redis, tenants, http, producer }));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping');
    // Whatever hangs (a job, a store that is down), the process is gone by the documented deadline.
    setTimeout(() => {
      logger.warn('worker did not stop within WORKER_SHUTDOWN_TIMEOUT_MS; exiting anyway');
      process.exit(1);
    }, config.workerShutdownTimeoutMs).unref();
    await fleet.close();
    await producer.close();
    http.close();
    await redis.quit().catch(() => redis.disconnect());
    await disconnectMongo();
    logger.info('worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err: String(err) }, 'worker failed to start');
  process.exit(1);
});
