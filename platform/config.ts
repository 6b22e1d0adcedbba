/**
 * Configuration, parsed once at start by one zod schema. Nothing else in the codebase reads
 * `process.env`: entry points call `loadConfig()` and pass the typed object down, so tests can
 * build their own configuration without touching the environment.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { redisTarget } from './redis-url.js';
import { parseKeyRing, type KeyRing } from './secret-box.js';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

const durationList = z
  .string()
  .transform((v, ctx) => {
    try {
      return v.split(',').map((s) => parseDuration(s.trim()));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.number()).min(1, 'needs at least one entry'));

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  /** One Redis, a Redis Cluster or a Sentinel-managed primary: the forms are in platform/redis-url.ts. */
  REDIS_URL: z.string().superRefine((v, ctx) => {
    try {
      redisTarget(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI'),
  ADMIN_API_KEY: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(24, 'each key needs at least 24 characters')).min(1, 'needs at least one key')),
  SECRETS_MASTER_KEY: z.string().transform((v, ctx): KeyRing => {
    try {
      return parseKeyRing(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  CALLBACK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Beyond the operator contract: tuning knobs with production defaults, overridden by tests.
  /** Delays before each callback attempt; the first is the initial attempt (SPEC §1.4). */
  CALLBACK_RETRY_SCHEDULE: z.string().default('0,5s,5m,30m,2h,5h,10h,14h,20h,24h').pipe(durationList),
  CALLBACK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /** Concurrent deliveries one worker process runs. */
  DELIVERY_CONCURRENCY: int(1, 1000).default(100),
  /** In-flight deliveries one tenant may hold across all workers, so a hanging endpoint cannot take every slot. */
  DELIVERY_TENANT_CONCURRENCY: int(1, 1000).default(10),
  /** In-flight deliveries a tenant may hold while its endpoint is fast (workers/platform/tenant-slots.ts). */
  DELIVERY_TENANT_BURST: int(1, 1000).default(50),
  /** Consecutive network failures/timeouts that open a tenant's circuit, and how long it stays open. */
  DELIVERY_CIRCUIT_THRESHOLD: int(1, 1000).default(5),
  DELIVERY_CIRCUIT_COOLDOWN_MS: int(100, 3_600_000).default(30_000),
  /**
   * How long one batched MongoDB write may go unanswered before the jobs waiting on it fail and
   * retry (models/platform/batch-insert.ts); a job is bounded by its own timeout plus this.
   */
  STORE_WRITE_TIMEOUT_MS: int(100, 600_000).default(30_000),
  /** BullMQ lock duration: how long before a crashed worker's job is considered stalled and retried. */
  JOB_LOCK_MS: int(1000, 600_000).default(30_000),
  WORKER_SHUTDOWN_TIMEOUT_MS: int(100, 300_000).default(15_000),
  /** The sweeper re-queues pending deliveries whose job went missing (e.g. Redis lost it): how often, and how overdue they must be. */
  DELIVERY_SWEEP_EVERY_MS: int(500, 3_600_000).default(300_000),
  DELIVERY_SWEEP_GRACE_MS: int(1000, 86_400_000).default(120_000),
  /** Prefix of every BullMQ key, so several relays (or test runs) can share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('bloonio'),
  BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(256 * 1024),
  /** The queue dashboard (/admin/queues) may retry, add, edit or remove jobs; off → it only shows them. */
  QUEUE_DASHBOARD_ACTIONS: bool.default(false),
  /** Who may scrape /metrics: a bearer token (or the admin key); `open` serves it to anyone (a private network's scraper). */
  METRICS_TOKEN: z.union([z.literal('open'), z.string().min(24, 'needs at least 24 characters, or the word open')]).optional(),
  /** Behind a PaaS router, trust X-Forwarded-For for client IPs: `true` is one proxy hop (TRUST_PROXY_HOPS=1). */
  TRUST_PROXY: bool.default(false),
  /** How many proxies in front of the relay append to X-Forwarded-For: the client is that many entries from the right (platform/client-ip.ts). */
  TRUST_PROXY_HOPS: int(0, 20).optional(),

  // Chat Relay (visitor sessions, WebSockets, abuse limits).
  CHAT_VISITOR_TOKEN_TTL_SECONDS: int(60, 86400).default(3600),
  CHAT_OPERATOR_TOKEN_TTL_SECONDS: int(60, 7 * 86400).default(12 * 3600),
  /** How long after its expiry a visitor token may still be refreshed (once: refresh rotates it). */
  CHAT_VISITOR_REFRESH_GRACE_SECONDS: int(0, 30 * 86400).default(86400),
  CHAT_MESSAGE_MAX_CHARS: int(1, 100_000).default(4000),
  /** A socket that answers no ping (and sends nothing) for this long is closed with 4408. */
  CHAT_WS_IDLE_MS: int(200, 3_600_000).default(120_000),
  CHAT_SESSIONS_PER_IP_PER_HOUR: int(1, 1_000_000).default(60),
  CHAT_MESSAGES_PER_SESSION_PER_MIN: int(1, 100_000).default(60),
  /** Visitor messages one tenant may send per second (all sessions, all processes): one tenant's flood cannot take the others' capacity. */
  CHAT_MESSAGES_PER_TENANT_PER_SEC: int(1, 1_000_000).default(200),
  /** Open chat sockets one tenant may hold on one API process, and new connections per tenant per minute (all processes). */
  CHAT_CONNECTIONS_PER_TENANT: int(1, 1_000_000).default(5000),
  CHAT_CONNECTS_PER_TENANT_PER_MIN: int(1, 10_000_000).default(6000),
  CHAT_BOT_TIMEOUT_MS: int(100, 60_000).default(5000),
  /** A socket's handshake (the upgrade request's headers, then its authentication) must complete within this; the HTTP server's header timeout is the same. */
  CHAT_WS_HANDSHAKE_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Chat sockets (pending or open) one client IP may hold on one API process, and all clients together: a refusal answers 429 / 503 with Retry-After. */
  CHAT_WS_MAX_PER_IP: int(1, 1_000_000).default(200),
  CHAT_WS_MAX_TOTAL: int(1, 10_000_000).default(10_000),
  /** How long a one-time socket ticket (POST /create/socket-ticket, /operator/create/socket-ticket) can be redeemed. */
  CHAT_WS_TICKET_TTL_SECONDS: int(1, 300).default(30),

  // Auth Relay (pairing, devices, push challenges).
  /** Google service-account key file (JSON) for FCM HTTP v1; absent → delivery by device polling only. */
  FCM_SERVICE_ACCOUNT_JSON: z.string().min(2).optional(),
  PAIRING_PROOF_TTL_SECONDS: int(30, 3600).default(300),
  DEVICE_SESSION_TTL_SECONDS: int(3600, 365 * 86400).default(30 * 86400),
  /** How long send/auth-challenge waits for the push jobs before answering 202 instead of 200. */
  PUSH_SYNC_WAIT_MS: int(0, 10_000).default(1500),
  /** Push fatigue: at most PUSH_FATIGUE_MAX challenges per user per PUSH_FATIGUE_WINDOW_SECONDS. */
  PUSH_FATIGUE_MAX: int(1, 100_000).default(5),
  PUSH_FATIGUE_WINDOW_SECONDS: int(1, 86400).default(60),
  /** FCM sends per second across all workers (FCM's default project quota is 600,000 per minute). */
  FCM_MAX_SENDS_PER_SECOND: int(1, 100_000).default(10_000),
  /** Push-queue jobs (FCM sends, approval requests' history) one worker process runs at once. */
  PUSH_CONCURRENCY: int(1, 2000).default(256),
  /** Passkeys: how long a WebAuthn challenge (register or sign-in options) can be answered. */
  WEBAUTHN_CHALLENGE_TTL_SECONDS: int(1, 3600).default(300),
  /** QR login: how long a QR code can be scanned and approved. */
  QR_LOGIN_TTL_SECONDS: int(10, 900).default(120),

  /** Development pages (/dev/widget, /dev/inbox, /dev/passkeys): never in production; `npm start` turns them on. */
  RELAY_DEV_PAGES: bool.default(false),

  // The console (SPEC §3.5): mail, sessions, codes, abuse limits.
  /** `smtp://user:pass@host:port` or `smtps://…`; absent → no mail is sent (and, only with RELAY_DEV_PAGES, codes come back as dev_otp). */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Bloonio Relay <no-reply@localhost>'),
  /** The relay's public URL, for links sent by email (invitations); absent → invitations are refused (never a link built from the request's Host). */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  CONSOLE_SESSION_TTL_SECONDS: int(300, 30 * 86400).default(7 * 86400),
  /** How long an emailed or enrolment code lives (SPEC: at most 10 minutes). */
  CONSOLE_CODE_TTL_SECONDS: int(30, 600).default(600),
  CONSOLE_INVITATION_TTL_SECONDS: int(300, 30 * 86400).default(7 * 86400),
  /** Attempts per address, and per client IP, per 15 minutes, counted apart for each kind (sign-in, codes asked, codes tried, sign-ups, resets). */
  CONSOLE_LIMIT_PER_ADDRESS: int(1, 1_000_000).default(10),
  CONSOLE_LIMIT_PER_IP: int(1, 1_000_000).default(100),
  /** Failed sign-ins and codes tried for one address from all IPs together (the per-address limit above counts one address from one IP). */
  CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS: int(1, 1_000_000).default(100),
  /** A console session unused this long ends (the token's 7 days are its absolute limit). */
  CONSOLE_IDLE_TIMEOUT_SECONDS: int(1, 30 * 86400).default(1800),
  /** Sensitive console actions need the password or a TOTP code given this recently (sign-in or re-authentication). */
  CONSOLE_STEP_UP_SECONDS: int(1, 86400).default(300),
  CONSOLE_MAX_WORKSPACES_PER_ACCOUNT: int(1, 10_000).default(5),
  CONSOLE_MAX_TENANTS_PER_WORKSPACE: int(1, 100).default(10),
});

export type Config = {
  port: number;
  redisUrl: string;
  mongodbUri: string;
  adminApiKeys: string[];
  secretsMasterKey: KeyRing;
  callbackAllowPrivateNetworks: boolean;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  callbackRetryScheduleMs: number[];
  callbackTimeoutMs: number;
  deliveryConcurrency: number;
  deliveryTenantConcurrency: number;
  deliveryTenantBurst: number;
  deliveryCircuitThreshold: number;
  deliveryCircuitCooldownMs: number;
  storeWriteTimeoutMs: number;
  jobLockMs: number;
  workerShutdownTimeoutMs: number;
  deliverySweepEveryMs: number;
  deliverySweepGraceMs: number;
  queuePrefix: string;
  bodyLimitBytes: number;
  queueDashboardActions: boolean;
  /** null: /metrics needs the admin key; 'open': anyone; else this bearer token (or the admin key). */
  metricsToken: string | null;
  trustProxy: boolean;
  /** Trusted proxy hops (0: the socket's peer is the client); trustProxy is `trustProxyHops > 0`. */
  trustProxyHops: number;
  chatVisitorTokenTtlSeconds: number;
  chatOperatorTokenTtlSeconds: number;
  chatVisitorRefreshGraceSeconds: number;
  chatMessageMaxChars: number;
  chatWsIdleMs: number;
  chatSessionsPerIpPerHour: number;
  chatMessagesPerSessionPerMin: number;
  chatMessagesPerTenantPerSec: number;
  chatConnectionsPerTenant: number;
  chatConnectsPerTenantPerMin: number;
  chatBotTimeoutMs: number;
  chatWsHandshakeTimeoutMs: number;
  chatWsMaxPerIp: number;
  chatWsMaxTotal: number;
  chatWsTicketTtlSeconds: number;
  fcmServiceAccountJson: string | undefined;
  pairingProofTtlSeconds: number;
  deviceSessionTtlSeconds: number;
  pushSyncWaitMs: number;
  pushFatigueMax: number;
  pushFatigueWindowSeconds: number;
  fcmMaxSendsPerSecond: number;
  pushConcurrency: number;
  webauthnChallengeTtlSeconds: number;
  qrLoginTtlSeconds: number;
  devPages: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  publicBaseUrl: string | undefined;
  consoleSessionTtlSeconds: number;
  consoleCodeTtlSeconds: number;
  consoleInvitationTtlSeconds: number;
  consoleLimitPerAddress: number;
  consoleLimitPerIp: number;
  consoleLimitPerAddressAllIps: number;
  consoleIdleTimeoutSeconds: number;
  consoleStepUpSeconds: number;
  consoleMaxWorkspacesPerAccount: number;
  consoleMaxTenantsPerWorkspace: number;
};

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
  const e = result.data;
  return {
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    mongodbUri: e.MONGODB_URI,
    adminApiKeys: e.ADMIN_API_KEY,
    secretsMasterKey: e.SECRETS_MASTER_KEY,
    callbackAllowPrivateNetworks: e.CALLBACK_ALLOW_PRIVATE_NETWORKS,
    logLevel: e.LOG_LEVEL,
    callbackRetryScheduleMs: e.CALLBACK_RETRY_SCHEDULE,
    callbackTimeoutMs: e.CALLBACK_TIMEOUT_MS,
    deliveryConcurrency: e.DELIVERY_CONCURRENCY,
    deliveryTenantConcurrency: e.DELIVERY_TENANT_CONCURRENCY,
    deliveryTenantBurst: Math.max(e.DELIVERY_TENANT_BURST, e.DELIVERY_TENANT_CONCURRENCY),
    deliveryCircuitThreshold: e.DELIVERY_CIRCUIT_THRESHOLD,
    deliveryCircuitCooldownMs: e.DELIVERY_CIRCUIT_COOLDOWN_MS,
    storeWriteTimeoutMs: e.STORE_WRITE_TIMEOUT_MS,
    jobLockMs: e.JOB_LOCK_MS,
    workerShutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS,
    deliverySweepEveryMs: e.DELIVERY_SWEEP_EVERY_MS,
    deliverySweepGraceMs: e.DELIVERY_SWEEP_GRACE_MS,
    queuePrefix: e.QUEUE_PREFIX,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    queueDashboardActions: e.QUEUE_DASHBOARD_ACTIONS,
    metricsToken: e.METRICS_TOKEN ?? null,
    trustProxy: (e.TRUST_PROXY_HOPS ?? (e.TRUST_PROXY ? 1 : 0)) > 0,
    trustProxyHops: e.TRUST_PROXY_HOPS ?? (e.TRUST_PROXY ? 1 : 0),
    chatVisitorTokenTtlSeconds: e.CHAT_VISITOR_TOKEN_TTL_SECONDS,
    chatOperatorTokenTtlSeconds: e.CHAT_OPERATOR_TOKEN_TTL_SECONDS,
    chatVisitorRefreshGraceSeconds: e.CHAT_VISITOR_REFRESH_GRACE_SECONDS,
    chatMessageMaxChars: e.CHAT_MESSAGE_MAX_CHARS,
    chatWsIdleMs: e.CHAT_WS_IDLE_MS,
    chatSessionsPerIpPerHour: e.CHAT_SESSIONS_PER_IP_PER_HOUR,
    chatMessagesPerSessionPerMin: e.CHAT_MESSAGES_PER_SESSION_PER_MIN,
    chatMessagesPerTenantPerSec: e.CHAT_MESSAGES_PER_TENANT_PER_SEC,
    chatConnectionsPerTenant: e.CHAT_CONNECTIONS_PER_TENANT,
    chatConnectsPerTenantPerMin: e.CHAT_CONNECTS_PER_TENANT_PER_MIN,
    chatBotTimeoutMs: e.CHAT_BOT_TIMEOUT_MS,
    chatWsHandshakeTimeoutMs: e.CHAT_WS_HANDSHAKE_TIMEOUT_MS,
    chatWsMaxPerIp: e.CHAT_WS_MAX_PER_IP,
    chatWsMaxTotal: e.CHAT_WS_MAX_TOTAL,
    chatWsTicketTtlSeconds: e.CHAT_WS_TICKET_TTL_SECONDS,
    fcmServiceAccountJson: e.FCM_SERVICE_ACCOUNT_JSON,
    pairingProofTtlSeconds: e.PAIRING_PROOF_TTL_SECONDS,
    deviceSessionTtlSeconds: e.DEVICE_SESSION_TTL_SECONDS,
    pushSyncWaitMs: e.PUSH_SYNC_WAIT_MS,
    pushFatigueMax: e.PUSH_FATIGUE_MAX,
    pushFatigueWindowSeconds: e.PUSH_FATIGUE_WINDOW_SECONDS,
    fcmMaxSendsPerSecond: e.FCM_MAX_SENDS_PER_SECOND,
    pushConcurrency: e.PUSH_CONCURRENCY,
    webauthnChallengeTtlSeconds: e.WEBAUTHN_CHALLENGE_TTL_SECONDS,
    qrLoginTtlSeconds: e.QR_LOGIN_TTL_SECONDS,
    devPages: e.RELAY_DEV_PAGES,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    consoleSessionTtlSeconds: e.CONSOLE_SESSION_TTL_SECONDS,
    consoleCodeTtlSeconds: e.CONSOLE_CODE_TTL_SECONDS,
    consoleInvitationTtlSeconds: e.CONSOLE_INVITATION_TTL_SECONDS,
    consoleLimitPerAddress: e.CONSOLE_LIMIT_PER_ADDRESS,
    consoleLimitPerIp: e.CONSOLE_LIMIT_PER_IP,
    consoleLimitPerAddressAllIps: e.CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS,
    consoleIdleTimeoutSeconds: e.CONSOLE_IDLE_TIMEOUT_SECONDS,
    consoleStepUpSeconds: e.CONSOLE_STEP_UP_SECONDS,
    consoleMaxWorkspacesPerAccount: e.CONSOLE_MAX_WORKSPACES_PER_ACCOUNT,
    consoleMaxTenantsPerWorkspace: e.CONSOLE_MAX_TENANTS_PER_WORKSPACE,
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
