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
export type TenantFlowDeps = FlowDeps & { tenants: TenantStore };
