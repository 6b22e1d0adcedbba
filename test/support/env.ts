/**
 * Test configuration. REDIS_URL and MONGODB_URI come from scripts/with-services.sh (real Redis and
 * FerretDB, or whatever the developer pointed them at). Each test file gets its own database and
 * queue prefix, so files never see each other's tenants or jobs.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig, type Config } from '../../platform/config.js';
import { recordSecret } from './log-audit.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
const MASTER_KEY = randomBytes(32).toString('hex');
recordSecret(ADMIN_KEY, 'admin key');
recordSecret(MASTER_KEY, 'master key');

export function testEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const redis = process.env.REDIS_URL;
  const mongo = process.env.MONGODB_URI;
  if (!redis || !mongo) throw new Error('REDIS_URL and MONGODB_URI must be set: run the tests with `npm test`');
  const suffix = `${name}_${randomBytes(3).toString('hex')}`;
  const uri = new URL(mongo);
  uri.pathname = `/t_${suffix}`;
  return {
    REDIS_URL: redis,
    MONGODB_URI: uri.toString(),
    ADMIN_API_KEY: ADMIN_KEY,
    SECRETS_MASTER_KEY: `test:${MASTER_KEY}`,
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    // Child processes log at info: their output is audited for secrets (test/support/log-audit.ts).
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    QUEUE_PREFIX: `t:${suffix}`,
    CALLBACK_RETRY_SCHEDULE: '0,300ms,300ms',
    CALLBACK_TIMEOUT_MS: '2000',
    JOB_LOCK_MS: '3000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '3000',
    ...extra,
  };
}

export function testConfig(env: Record<string, string>): Config {
  return parseConfig(env);
}
