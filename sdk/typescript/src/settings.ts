/**
 * RelaySettings: the SDK's configuration, from `BLOONIO_RELAY_*` (or given explicitly; what is given
 * wins). Every problem is collected and thrown at once as one ConfigurationError naming each
 * setting, so a deploy fails at start with a sentence to act on, never later with a 401.
 *
 * The variables and their units are the Python SDK's: TIMEOUT and MAX_RETRY_WAIT in seconds.
 */
import { ConfigurationError } from './errors.js';

export const DEFAULT_CALLBACK_PATH = '/api/sudo-callback';
export const STATE_BACKENDS = ['redis', 'memory'] as const;
export type StateBackend = (typeof STATE_BACKENDS)[number];

export interface RelaySettingsInit {
  /** The relay, e.g. `https://auth-relay.bloonio.com` (`BLOONIO_RELAY_BASE_URL`). */
  baseUrl?: string;
  /** `tnt_…` (`BLOONIO_RELAY_TENANT_ID`). */
  tenantId?: string;
  /** `sk_…`: signs every call, verifies every callback (`BLOONIO_RELAY_TENANT_SECRET`). */
  tenantSecret?: string;
  /** `redis` (default) or `memory` (one process only: tests, local development). */
  stateBackend?: StateBackend;
  /** Redis URL of the SDK's state, when `stateBackend` is redis; the stores need it, a bare client does not. */
  stateBackendUrl?: string;
  /** Where the relay POSTs the ApprovalEvent (default `/api/sudo-callback`, the tenant's default `sudo_callback_path`). */
  callbackPath?: string;
  /** Key prefix of the SDK's state (default `bloonio_relay`). */
  statePrefix?: string;
  /** Per HTTP attempt (default 10 000 ms; `BLOONIO_RELAY_TIMEOUT` is in seconds). */
  timeoutMs?: number;
  /** Retries of idempotent calls on 429/503/connection errors (default 2). */
  maxRetries?: number;
  /** The longest Retry-After the client waits before throwing instead (default 10 000 ms; env in seconds). */
  maxRetryWaitMs?: number;
  /** Seconds a validated instruction stays usable (default 180). */
  sudoTtlSeconds?: number;
  /** Seconds a quorum / cross-organisation mutation is kept (default 1800). */
  pendingOpTtlSeconds?: number;
  /** The environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

type Env = Record<string, string | undefined>;

/** Reads and checks settings; `problems` collects every complaint, named by variable. */
export class SettingsReader {
  readonly problems: string[] = [];
  constructor(
    readonly prefix: string,
    readonly env: Env,
  ) {}

  name(key: string): string {
    return `${this.prefix}${key}`;
  }

  raw(key: string, given: string | number | undefined): string | undefined {
    const v = given ?? this.env[this.name(key)];
    return v === undefined || String(v).trim() === '' ? undefined : String(v).trim();
  }

  required(key: string, given: string | undefined): string {
    const v = this.raw(key, given);
    if (v === undefined) this.problems.push(`${this.name(key)} is missing`);
    return v ?? '';
  }

  /** A number, from the option (in its own unit) or the variable (scaled by `envScale`). */
  number(
    key: string,
    given: number | undefined,
    dflt: number,
    lo: number,
    hi: number,
    o: { integer?: boolean; envScale?: number; option?: string } = {},
  ): number {
    let n: number;
    let shown: string;
    if (given !== undefined) {
      if (!Number.isFinite(given) || given < lo || given > hi || (o.integer && !Number.isInteger(given))) {
        this.problems.push(`${o.option ?? this.name(key)} must be ${o.integer ? 'an integer ' : ''}between ${lo} and ${hi} (got ${given})`);
        return dflt;
      }
      return given;
    } else {
      const v = this.raw(key, undefined);
      if (v === undefined) return dflt;
      shown = v;
      n = Number(v) * (o.envScale ?? 1);
      if (!Number.isFinite(Number(v)) || (o.integer && !Number.isInteger(Number(v)))) {
        this.problems.push(`${this.name(key)} must be ${o.integer ? 'an integer' : 'a number'} (got ${JSON.stringify(v)})`);
        return dflt;
      }
    }
    if (n < lo || n > hi) {
      this.problems.push(`${this.name(key)} must be between ${lo / (o.envScale ?? 1)} and ${hi / (o.envScale ?? 1)} (got ${shown})`);
      return dflt;
    }
    return n;
  }

  baseUrl(given: string | undefined): string {
    let url = this.required('BASE_URL', given).replace(/\/+$/, '');
    if (!url) return url;
    let parsed: URL | null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
      this.problems.push(
        `${this.name('BASE_URL')} must be an http(s) URL like https://auth-relay.bloonio.com (got ${JSON.stringify(url)})`,
      );
    } else if (url.endsWith('/api/v1')) {
      url = url.slice(0, -'/api/v1'.length); // tolerate the API prefix: the client adds it
    }
    return url;
  }

  tenant(givenId: string | undefined, givenSecret: string | undefined): { tenantId: string; tenantSecret: string } {
    const tenantId = this.required('TENANT_ID', givenId);
    if (tenantId && !tenantId.startsWith('tnt_')) this.problems.push(`${this.name('TENANT_ID')} must be a tenant id (tnt_…)`);
    const tenantSecret = this.required('TENANT_SECRET', givenSecret);
    if (tenantSecret && !tenantSecret.startsWith('sk_')) this.problems.push(`${this.name('TENANT_SECRET')} must be a tenant secret (sk_…)`);
    return { tenantId, tenantSecret };
  }

  done(): void {
    if (this.problems.length) throw new ConfigurationError(this.problems);
  }
}

/** What every client needs: where the relay is, who the tenant is, and how to call it. */
export interface ClientSettings {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly tenantSecret: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryWaitMs: number;
  /** The variable prefix the settings were read with (for messages). */
  readonly envPrefix: string;
}

export class RelaySettings implements ClientSettings {
  static readonly ENV_PREFIX = 'BLOONIO_RELAY_';
  readonly baseUrl: string;
  readonly tenantId: string;
  declare readonly tenantSecret: string;
  readonly stateBackend: StateBackend;
  readonly stateBackendUrl: string | null;
  readonly callbackPath: string;
  readonly statePrefix: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryWaitMs: number;
  readonly sudoTtlSeconds: number;
  readonly pendingOpTtlSeconds: number;
  readonly envPrefix = RelaySettings.ENV_PREFIX;

  constructor(init: RelaySettingsInit = {}) {
    const r = new SettingsReader(RelaySettings.ENV_PREFIX, init.env ?? process.env);
    this.baseUrl = r.baseUrl(init.baseUrl);
    const { tenantId, tenantSecret } = r.tenant(init.tenantId, init.tenantSecret);
    this.tenantId = tenantId;
    // Not enumerable: the secret stays out of console.log / JSON.stringify of the settings.
    Object.defineProperty(this, 'tenantSecret', { value: tenantSecret, enumerable: false });
    const backend = (r.raw('STATE_BACKEND', init.stateBackend) ?? 'redis').toLowerCase();
    if (!(STATE_BACKENDS as readonly string[]).includes(backend)) {
      r.problems.push(`${r.name('STATE_BACKEND')} must be one of ${STATE_BACKENDS.join(', ')} (got ${JSON.stringify(backend)})`);
    }
    this.stateBackend = backend as StateBackend;
    this.stateBackendUrl = r.raw('STATE_BACKEND_URL', init.stateBackendUrl) ?? null;
    // A missing STATE_BACKEND_URL is reported when a store is built (BloonioAuth does, at start):
    // a script that only calls the relay needs no state.
    if (backend === 'redis' && this.stateBackendUrl && !/^(rediss?|unix):/.test(this.stateBackendUrl)) {
      r.problems.push(`${r.name('STATE_BACKEND_URL')} must be a redis:// or rediss:// URL`);
    }
    this.callbackPath = r.raw('CALLBACK_PATH', init.callbackPath) ?? DEFAULT_CALLBACK_PATH;
    if (!this.callbackPath.startsWith('/')) {
      r.problems.push(`${r.name('CALLBACK_PATH')} must be a path starting with / (got ${JSON.stringify(this.callbackPath)})`);
    }
    this.statePrefix = r.raw('STATE_PREFIX', init.statePrefix) ?? 'bloonio_relay';
    this.timeoutMs = r.number('TIMEOUT', init.timeoutMs, 10_000, 100, 600_000, { option: 'timeoutMs', envScale: 1000 });
    this.maxRetries = r.number('MAX_RETRIES', init.maxRetries, 2, 0, 10, { option: 'maxRetries', integer: true });
    this.maxRetryWaitMs = r.number('MAX_RETRY_WAIT', init.maxRetryWaitMs, 10_000, 0, 3_600_000, {
      option: 'maxRetryWaitMs',
      envScale: 1000,
    });
    this.sudoTtlSeconds = r.number('SUDO_TTL', init.sudoTtlSeconds, 180, 10, 3600, { option: 'sudoTtlSeconds', integer: true });
    this.pendingOpTtlSeconds = r.number('PENDING_OP_TTL', init.pendingOpTtlSeconds, 1800, 60, 86_400, {
      option: 'pendingOpTtlSeconds',
      integer: true,
    });
    r.done();
  }

  /** The state backend's URL, or a ConfigurationError naming the missing variable. */
  stateUrl(): string {
    if (!this.stateBackendUrl) {
      throw new ConfigurationError([`${this.envPrefix}STATE_BACKEND_URL is missing (needed by state backend ${this.stateBackend})`]);
    }
    return this.stateBackendUrl;
  }
}

export interface ChatRelaySettingsInit {
  baseUrl?: string;
  tenantId?: string;
  tenantSecret?: string;
  timeoutMs?: number;
  maxRetries?: number;
  maxRetryWaitMs?: number;
  /** For the pages that embed the widget (`BLOONIO_CHAT_WIDGET_PUBLIC_KEY`). */
  widgetPublicKey?: string;
  env?: Record<string, string | undefined>;
}

/** `BLOONIO_CHAT_*`: the Chat Relay's tenant (often the same as the auth one, not necessarily). The chat SDK keeps no state. */
export class ChatRelaySettings implements ClientSettings {
  static readonly ENV_PREFIX = 'BLOONIO_CHAT_';
  readonly baseUrl: string;
  readonly tenantId: string;
  declare readonly tenantSecret: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryWaitMs: number;
  readonly widgetPublicKey: string | null;
  readonly envPrefix = ChatRelaySettings.ENV_PREFIX;

  constructor(init: ChatRelaySettingsInit = {}) {
    const r = new SettingsReader(ChatRelaySettings.ENV_PREFIX, init.env ?? process.env);
    this.baseUrl = r.baseUrl(init.baseUrl);
    const { tenantId, tenantSecret } = r.tenant(init.tenantId, init.tenantSecret);
    this.tenantId = tenantId;
    Object.defineProperty(this, 'tenantSecret', { value: tenantSecret, enumerable: false });
    this.timeoutMs = r.number('TIMEOUT', init.timeoutMs, 10_000, 100, 600_000, { option: 'timeoutMs', envScale: 1000 });
    this.maxRetries = r.number('MAX_RETRIES', init.maxRetries, 2, 0, 10, { option: 'maxRetries', integer: true });
    this.maxRetryWaitMs = r.number('MAX_RETRY_WAIT', init.maxRetryWaitMs, 10_000, 0, 3_600_000, {
      option: 'maxRetryWaitMs',
      envScale: 1000,
    });
    this.widgetPublicKey = r.raw('WIDGET_PUBLIC_KEY', init.widgetPublicKey) ?? null;
    r.done();
  }
}
