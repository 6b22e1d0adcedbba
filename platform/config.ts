/**
 * Configuration, parsed once at start from the one table of settings (platform/config-settings.ts).
 * Nothing else in the codebase reads `process.env`: entry points call `loadConfigOrExit()` and pass
 * the typed object down, so tests can build their own configuration without touching the
 * environment. The Config type, its validation and docs/configuration.md all come from that table.
 */
import { z } from 'zod';
import { SETTINGS, settingList, type Setting, type Settings } from './config-settings.js';

/** Each setting's value, under the Config property it fills. */
type Values = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

/** The values, with the few that are read together from two variables resolved. */
export type Config = Omit<Values, 'metricsToken' | 'trustProxyHops'> & {
  /** null: /metrics needs the admin key; 'open': anyone; else this bearer token (or the admin key). */
  metricsToken: string | null;
  /** Trusted proxy hops (0: the socket's peer is the client); trustProxy is `trustProxyHops > 0`. */
  trustProxyHops: number;
};

/** The environment's schema: one entry per variable, in the table's order. */
const envSchema = z.object(Object.fromEntries(settingList().map(({ setting }) => [setting.env, setting.schema])));

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line per bad setting, naming it and why. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const name = i.path.join('.');
      const problem = i.code === 'invalid_type' && env[name] === undefined ? 'is required but not set' : i.message;
      return `${name} ${problem}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const parsed = result.data;
  const values = Object.fromEntries((Object.keys(SETTINGS) as (keyof Settings)[]).map((key) => [key, parsed[SETTINGS[key].env]])) as Values;
  const trustProxyHops = values.trustProxyHops ?? (values.trustProxy ? 1 : 0);
  return {
    ...values,
    // The burst ceiling is never below the steady one (workers/platform/tenant-slots.ts).
    deliveryTenantBurst: Math.max(values.deliveryTenantBurst, values.deliveryTenantConcurrency),
    metricsToken: values.metricsToken ?? null,
    trustProxy: trustProxyHops > 0,
    trustProxyHops,
  };
}

/** For entry points: parse process.env or stop the process with one clear line. */
export function loadConfigOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bloonio-relay: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
