/** What every route and middleware can reach: the process's dependencies and per-request state. */
import type { Redis } from 'ioredis';
import type { ParameterizedContext } from 'koa';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Producer } from '../queues/producer.js';
import type { TenantStore } from '../models/platform/tenant-store.js';
import type { Principal } from './principals/types.js';
import type { Role } from '../models/console/workspace.js';

export type AppDeps = {
  config: Config;
  logger: Logger;
  /** Fail-fast connection for request-path commands. */
  redis: Redis;
  producer: Producer;
  tenants: TenantStore;
};

export type AppState = {
  requestId: string;
  log: Logger;
  rawBody?: Buffer;
  body?: unknown;
  /** Who is calling, set by the route's security middleware (api/principals/). */
  principal?: Principal;
  /** The matched route's template, for metrics labels. */
  routeTemplate?: string;
  /** The matched console route's role requirement (api/route.ts `consoleRole`), read by the console principal. */
  consoleRole?: Role | undefined;
};

export type AppContext = ParameterizedContext<AppState>;
