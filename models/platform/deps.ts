/**
 * What the domain flows (models/*) need from the process they run in — the API or a worker —
 * passed in, never imported: configuration, a logger, Redis, the job producer, the tenant cache.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { Producer } from '../../queues/producer.js';
import type { TenantStore } from './tenant-store.js';

export type FlowDeps = { config: Config; logger: Logger; redis: Redis; producer: Producer };
/** Enough to reach this deployment's Redis keys (platform/keys.ts): the connection and the key prefix. */
export type RedisKeyDeps = { redis: Redis; config: Pick<Config, 'queuePrefix'> };
export type TenantFlowDeps = FlowDeps & { tenants: TenantStore };
