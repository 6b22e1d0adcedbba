/**
 * Every environment variable the relay reads, declared once: its name, its kind (how the text is
 * checked and turned into a value), its default, the concern it belongs to and one line saying
 * what it does. platform/config.ts derives the typed Config and its validation from this table;
 * scripts/docs/gen-config.ts derives docs/configuration.md from it, so the page cannot drift.
 * The order matters twice: the docs list variables in it, and a bad configuration is reported
 * in it (the first required variable, REDIS_URL, comes first).
 */
import { z } from 'zod';
import { bool, checkedBy, durationList, int, kind, parsedBy, type Kind } from './config-kinds.js';
import { redisTarget } from './redis-url.js';
import { parseKeyRing } from './secret-box.js';

/** The groups of the configuration page, in its order. */
export const CONCERNS = {
  stores: { title: 'Stores', about: 'Where state lives: Redis for hot state and queues, MongoDB for records.' },
  access: { title: 'Admin access and secrets', about: 'The platform admin key and the key that seals tenant secrets at rest.' },
  http: { title: 'HTTP server', about: 'The `web` process: its port, request limits and the proxies in front of it.' },
  observability: { title: 'Logs and metrics', about: 'What the processes log and who may scrape `/metrics`.' },
  callbacks: {
    title: 'Callbacks and delivery',
    about: 'Signed callbacks to tenants: where they may go, how often they are retried, how many run at once.',
  },
  workers: { title: 'Workers and queues', about: 'BullMQ jobs: locks, shutdown and the queue dashboard.' },
  chat: { title: 'Chat Relay', about: 'Visitor and operator tokens, chat sockets and abuse limits.' },
  auth: { title: 'Auth Relay', about: 'Pairing, devices, push challenges, passkeys and QR login.' },
  console: { title: 'Console', about: 'The self-service console at `/console`: mail, sessions, codes, quotas and abuse limits.' },
  development: { title: 'Development', about: 'Settings for local development only.' },
} as const;

export type Concern = keyof typeof CONCERNS;

interface Declaration {
  /** The environment variable's name. */
  env: string;
  kind: Kind<unknown>;
  /** One line for the configuration page: what the variable does. */
  doc: string;
  /** The text used when the variable is unset (shown as written on the configuration page). */
  default?: string;
  /** Unset → the process refuses to start. Neither this nor a default → the value is undefined. */
  required?: true;
}

/** A declared variable: what the docs print, and the zod schema for its slot in the environment. */
export interface Setting<T> {
  env: string;
  concern: Concern;
  doc: string;
  hint: string;
  default: string | undefined;
  required: boolean;
  schema: z.ZodType<T, string | undefined>;
}

/** The value a declaration yields: its kind's, or undefined too when it has neither default nor requirement. */
type ValueOf<D> = D extends { kind: Kind<infer T> } ? (D extends { default: string } | { required: true } ? T : T | undefined) : never;

/** Declares the variables of one concern. */
const under =
  (concern: Concern) =>
  <const D extends Declaration>(d: D): Setting<ValueOf<D>> => {
    const inner = d.kind.schema;
    // A default is the text an operator would write, so it passes the same checks as a value set.
    const schema = d.default !== undefined ? z.string().default(d.default).pipe(inner) : d.required ? inner : inner.optional();
    return {
      env: d.env,
      concern,
      doc: d.doc,
      hint: d.kind.hint,
      default: d.default,
      required: d.required === true,
      schema: schema as z.ZodType<ValueOf<D>, string | undefined>,
    };
  };

const stores = under('stores');
const access = under('access');
const http = under('http');
const observability = under('observability');
const callbacks = under('callbacks');
const workers = under('workers');
const chat = under('chat');
const auth = under('auth');
const consoleArea = under('console');
const development = under('development');

const DAY = 86400;

/** Keyed by the Config property each variable fills (platform/config.ts). */
export const SETTINGS = {
  // Stores.
  redisUrl: stores({
    env: 'REDIS_URL',
    required: true,
    kind: checkedBy(redisTarget, '`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`'),
    doc: 'One Redis, a Redis Cluster (`redis+cluster://host:port,…`) or a Sentinel-managed primary (`redis+sentinel://host:port,…/<primary name>`); see docs/operations.md.',
  }),
  mongodbUri: stores({
    env: 'MONGODB_URI',
    required: true,
    kind: kind(
      z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI'),
      '`mongodb://` or `mongodb+srv://` URI',
    ),
    doc: 'MongoDB 6+ (or FerretDB v1) URI, with the database name.',
  }),
  storeWriteTimeoutMs: stores({
    env: 'STORE_WRITE_TIMEOUT_MS',
    default: '30000',
    kind: int(100, 600_000),
    doc: 'How long one batched MongoDB write may go unanswered before the jobs waiting on it fail and retry (models/platform/batch-insert.ts); a job is bounded by its own timeout plus this.',
  }),
  queuePrefix: stores({
    env: 'QUEUE_PREFIX',
    default: 'bloonio',
    kind: kind(z.string().regex(/^[A-Za-z0-9:_-]+$/), 'letters, digits, `:`, `_`, `-`'),
    doc: 'Prefix of every BullMQ and Redis key, so several relays (or test runs) can share one Redis.',
  }),

  // Admin access and secrets.
  adminApiKeys: access({
    env: 'ADMIN_API_KEY',
    required: true,
    kind: kind(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.string().min(24, 'each key needs at least 24 characters')).min(1, 'needs at least one key')),
      'comma-separated keys, 24+ characters each',
    ),
    doc: 'The platform admin key, or several (comma-separated) so keys can rotate.',
  }),
  secretsMasterKey: access({
    env: 'SECRETS_MASTER_KEY',
    required: true,
    kind: parsedBy(parseKeyRing, '`kid:key[,kid:key…]`, 32-byte keys as 64 hex characters or base64'),
    doc: 'Seals tenant secrets at rest: the first key seals, all of them open; a bare key gets an id from its hash.',
  }),

  // HTTP server.
  port: http({ env: 'PORT', default: '3000', kind: int(0, 65535), doc: 'HTTP port of the `web` process.' }),
  bodyLimitBytes: http({
    env: 'BODY_LIMIT_BYTES',
    default: String(256 * 1024),
    kind: int(1024, 10 * 1024 * 1024),
    doc: 'Larger request bodies get 413.',
  }),
  trustProxy: http({
    env: 'TRUST_PROXY',
    default: 'false',
    kind: bool,
    doc: 'Behind a PaaS router, trust `X-Forwarded-For` for client IPs: `true` is one proxy hop (`TRUST_PROXY_HOPS=1`).',
  }),
  trustProxyHops: http({
    env: 'TRUST_PROXY_HOPS',
    kind: int(0, 20),
    doc: 'How many proxies in front of the relay append to `X-Forwarded-For`: the client is that many entries from the right (platform/client-ip.ts). Unset: 1 with `TRUST_PROXY=true`, else 0.',
  }),
  publicBaseUrl: http({
    env: 'PUBLIC_BASE_URL',
    kind: kind(
      z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((u) => u.replace(/\/+$/, '')),
      'http(s) URL',
    ),
    doc: "The relay's public URL, for links sent by email (invitations); unset → invitations are refused (503 `NOT_CONFIGURED`), never a link built from the request's `Host`.",
  }),

  // Logs and metrics.
  logLevel: observability({
    env: 'LOG_LEVEL',
    default: 'info',
    kind: kind(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
    doc: 'Log level: fatal, error, warn, info, debug, trace or silent.',
  }),
  metricsToken: observability({
    env: 'METRICS_TOKEN',
    kind: kind(
      z.union([z.literal('open'), z.string().min(24, 'needs at least 24 characters, or the word open')]),
      '24+ characters, or `open`',
    ),
    doc: 'Who may scrape `/metrics`: this bearer token (or the admin key); `open` serves it to anyone (a private network’s scraper); unset → the admin key only.',
  }),

  // Callbacks and delivery.
  callbackAllowPrivateNetworks: callbacks({
    env: 'CALLBACK_ALLOW_PRIVATE_NETWORKS',
    default: 'false',
    kind: bool,
    doc: 'Allow callbacks to private and loopback addresses (local development and tests only; `npm start` turns it on). Off, a callback or bot URL whose host is a literal non-public address is refused (422).',
  }),
  callbackRetryScheduleMs: callbacks({
    env: 'CALLBACK_RETRY_SCHEDULE',
    default: '0,5s,5m,30m,2h,5h,10h,14h,20h,24h',
    kind: durationList,
    doc: 'Delays before each callback attempt; the first is the initial attempt (docs/concepts/callbacks.md).',
  }),
  callbackTimeoutMs: callbacks({
    env: 'CALLBACK_TIMEOUT_MS',
    default: '10000',
    kind: int(100, 60_000),
    doc: 'One callback attempt’s timeout.',
  }),
  deliveryConcurrency: callbacks({
    env: 'DELIVERY_CONCURRENCY',
    default: '100',
    kind: int(1, 1000),
    doc: 'Concurrent deliveries one worker process runs.',
  }),
  deliveryTenantConcurrency: callbacks({
    env: 'DELIVERY_TENANT_CONCURRENCY',
    default: '10',
    kind: int(1, 1000),
    doc: 'In-flight deliveries one tenant may hold across all workers, so a hanging endpoint cannot take every slot.',
  }),
  deliveryTenantBurst: callbacks({
    env: 'DELIVERY_TENANT_BURST',
    default: '50',
    kind: int(1, 1000),
    doc: 'In-flight deliveries a tenant may hold while its endpoint is fast (workers/platform/tenant-slots.ts); never below `DELIVERY_TENANT_CONCURRENCY`.',
  }),
  deliveryCircuitThreshold: callbacks({
    env: 'DELIVERY_CIRCUIT_THRESHOLD',
    default: '5',
    kind: int(1, 1000),
    doc: 'Consecutive network failures or timeouts that open a tenant’s circuit.',
  }),
  deliveryCircuitCooldownMs: callbacks({
    env: 'DELIVERY_CIRCUIT_COOLDOWN_MS',
    default: '30000',
    kind: int(100, 3_600_000),
    doc: 'How long an open circuit stays open.',
  }),
  deliverySweepEveryMs: callbacks({
    env: 'DELIVERY_SWEEP_EVERY_MS',
    default: '300000',
    kind: int(500, 3_600_000),
    doc: 'How often the sweeper re-queues pending deliveries whose job went missing (e.g. lost with Redis).',
  }),
  deliverySweepGraceMs: callbacks({
    env: 'DELIVERY_SWEEP_GRACE_MS',
    default: '120000',
    kind: int(1000, 86_400_000),
    doc: 'How overdue a pending delivery must be before the sweeper re-queues it.',
  }),

  // Workers and queues.
  jobLockMs: workers({
    env: 'JOB_LOCK_MS',
    default: '30000',
    kind: int(1000, 600_000),
    doc: 'BullMQ lock duration: how long before a crashed worker’s job is considered stalled and retried.',
  }),
  workerShutdownTimeoutMs: workers({
    env: 'WORKER_SHUTDOWN_TIMEOUT_MS',
    default: '15000',
    kind: int(100, 300_000),
    doc: 'How long SIGTERM waits for running jobs; the process exits at this deadline whatever happens (a job cut short is retried as stalled).',
  }),
  queueDashboardActions: workers({
    env: 'QUEUE_DASHBOARD_ACTIONS',
    default: 'false',
    kind: bool,
    doc: 'The queue dashboard (`/admin/queues`) may retry, add, edit or remove jobs; off → it only shows them.',
  }),

  // Chat Relay.
  chatVisitorTokenTtlSeconds: chat({
    env: 'CHAT_VISITOR_TOKEN_TTL_SECONDS',
    default: '3600',
    kind: int(60, DAY),
    doc: 'How long a visitor token lives.',
  }),
  chatOperatorTokenTtlSeconds: chat({
    env: 'CHAT_OPERATOR_TOKEN_TTL_SECONDS',
    default: String(12 * 3600),
    kind: int(60, 7 * DAY),
    doc: 'How long an operator token lives.',
  }),
  chatVisitorRefreshGraceSeconds: chat({
    env: 'CHAT_VISITOR_REFRESH_GRACE_SECONDS',
    default: String(DAY),
    kind: int(0, 30 * DAY),
    doc: 'How long after its expiry a visitor token may still be refreshed (once: refresh rotates it).',
  }),
  chatMessageMaxChars: chat({
    env: 'CHAT_MESSAGE_MAX_CHARS',
    default: '4000',
    kind: int(1, 100_000),
    doc: 'The longest chat message, in characters.',
  }),
  chatWsIdleMs: chat({
    env: 'CHAT_WS_IDLE_MS',
    default: '120000',
    kind: int(200, 3_600_000),
    doc: 'A socket that answers no ping (and sends nothing) for this long is closed with 4408.',
  }),
  chatSessionsPerIpPerHour: chat({
    env: 'CHAT_SESSIONS_PER_IP_PER_HOUR',
    default: '60',
    kind: int(1, 1_000_000),
    doc: 'Visitor sessions one client IP may open per hour.',
  }),
  chatMessagesPerSessionPerMin: chat({
    env: 'CHAT_MESSAGES_PER_SESSION_PER_MIN',
    default: '60',
    kind: int(1, 100_000),
    doc: 'Messages one visitor session may send per minute; over it the socket closes with 4429.',
  }),
  chatMessagesPerTenantPerSec: chat({
    env: 'CHAT_MESSAGES_PER_TENANT_PER_SEC',
    default: '200',
    kind: int(1, 1_000_000),
    doc: 'Visitor messages one tenant may send per second (all sessions, all processes); over it a message gets `RATE_LIMITED` and is not stored, so one tenant’s flood cannot take the others’ capacity.',
  }),
  chatConnectionsPerTenant: chat({
    env: 'CHAT_CONNECTIONS_PER_TENANT',
    default: '5000',
    kind: int(1, 1_000_000),
    doc: 'Open chat sockets one tenant may hold on one API process.',
  }),
  chatConnectsPerTenantPerMin: chat({
    env: 'CHAT_CONNECTS_PER_TENANT_PER_MIN',
    default: '6000',
    kind: int(1, 10_000_000),
    doc: 'New chat connections per tenant per minute, all processes together.',
  }),
  chatBotTimeoutMs: chat({
    env: 'CHAT_BOT_TIMEOUT_MS',
    default: '5000',
    kind: int(100, 60_000),
    doc: 'How long the relay waits for a tenant’s bot webhook to answer.',
  }),
  chatWsHandshakeTimeoutMs: chat({
    env: 'CHAT_WS_HANDSHAKE_TIMEOUT_MS',
    default: '10000',
    kind: int(100, 120_000),
    doc: 'A socket’s handshake (the upgrade request’s headers, then its authentication) must complete within this; the HTTP server’s header timeout is the same (408 after it).',
  }),
  chatWsMaxPerIp: chat({
    env: 'CHAT_WS_MAX_PER_IP',
    default: '200',
    kind: int(1, 1_000_000),
    doc: 'Chat sockets (pending or open) one client IP may hold on one API process; beyond, the upgrade gets 429 with `Retry-After`.',
  }),
  chatWsMaxTotal: chat({
    env: 'CHAT_WS_MAX_TOTAL',
    default: '10000',
    kind: int(1, 10_000_000),
    doc: 'Chat sockets all clients together may hold on one API process; beyond, 503 `SERVER_BUSY` with `Retry-After`. Keep it well under the open-file limit (`ulimit -n`).',
  }),
  chatWsTicketTtlSeconds: chat({
    env: 'CHAT_WS_TICKET_TTL_SECONDS',
    default: '30',
    kind: int(1, 300),
    doc: 'How long a one-time socket ticket (`POST /create/socket-ticket`, `/operator/create/socket-ticket`) can be redeemed.',
  }),

  // Auth Relay.
  fcmServiceAccountJson: auth({
    env: 'FCM_SERVICE_ACCOUNT_JSON',
    kind: kind(z.string().min(2), 'JSON'),
    doc: 'Google service-account key (JSON) for FCM HTTP v1; unset → challenges reach devices by polling only.',
  }),
  pairingProofTtlSeconds: auth({
    env: 'PAIRING_PROOF_TTL_SECONDS',
    default: '300',
    kind: int(30, 3600),
    doc: 'How long a pairing proof can be redeemed.',
  }),
  deviceSessionTtlSeconds: auth({
    env: 'DEVICE_SESSION_TTL_SECONDS',
    default: String(30 * DAY),
    kind: int(3600, 365 * DAY),
    doc: 'How long a paired device’s session lives.',
  }),
  pushSyncWaitMs: auth({
    env: 'PUSH_SYNC_WAIT_MS',
    default: '1500',
    kind: int(0, 10_000),
    doc: 'How long `send/auth-challenge` waits for the push jobs: 200 when they settled in time, 202 otherwise.',
  }),
  pushFatigueMax: auth({
    env: 'PUSH_FATIGUE_MAX',
    default: '5',
    kind: int(1, 100_000),
    doc: 'Push fatigue: at most this many challenges per user per `PUSH_FATIGUE_WINDOW_SECONDS`.',
  }),
  pushFatigueWindowSeconds: auth({
    env: 'PUSH_FATIGUE_WINDOW_SECONDS',
    default: '60',
    kind: int(1, DAY),
    doc: 'The window `PUSH_FATIGUE_MAX` counts in.',
  }),
  fcmMaxSendsPerSecond: auth({
    env: 'FCM_MAX_SENDS_PER_SECOND',
    default: '10000',
    kind: int(1, 100_000),
    doc: 'FCM sends per second across all workers (FCM’s default project quota is 600,000 per minute).',
  }),
  pushConcurrency: auth({
    env: 'PUSH_CONCURRENCY',
    default: '256',
    kind: int(1, 2000),
    doc: 'Push-queue jobs (FCM sends, approval requests’ history) one worker process runs at once.',
  }),
  webauthnChallengeTtlSeconds: auth({
    env: 'WEBAUTHN_CHALLENGE_TTL_SECONDS',
    default: '300',
    kind: int(1, 3600),
    doc: 'Passkeys: how long a WebAuthn challenge (register or sign-in options) can be answered.',
  }),
  qrLoginTtlSeconds: auth({
    env: 'QR_LOGIN_TTL_SECONDS',
    default: '120',
    kind: int(10, 900),
    doc: 'QR login: how long a QR code can be scanned and approved.',
  }),

  // Console.
  smtpUrl: consoleArea({
    env: 'SMTP_URL',
    kind: kind(
      z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL'),
      '`smtp://user:pass@host:port` or `smtps://…`',
    ),
    doc: 'Console mail (STARTTLS required, except on loopback or with `?requireTLS=false`); unset → no mail is sent (and, only with `RELAY_DEV_PAGES`, codes come back on the page).',
  }),
  mailFrom: consoleArea({
    env: 'MAIL_FROM',
    default: 'Bloonio Relay <no-reply@localhost>',
    kind: kind(z.string().min(3).max(200)),
    doc: 'The sender of console mail.',
  }),
  consoleSessionTtlSeconds: consoleArea({
    env: 'CONSOLE_SESSION_TTL_SECONDS',
    default: String(7 * DAY),
    kind: int(300, 30 * DAY),
    doc: 'A console session’s absolute lifetime.',
  }),
  consoleCodeTtlSeconds: consoleArea({
    env: 'CONSOLE_CODE_TTL_SECONDS',
    default: '600',
    kind: int(30, 600),
    doc: 'How long an emailed or enrolment code lives (at most 10 minutes).',
  }),
  consoleInvitationTtlSeconds: consoleArea({
    env: 'CONSOLE_INVITATION_TTL_SECONDS',
    default: String(7 * DAY),
    kind: int(300, 30 * DAY),
    doc: 'How long a workspace invitation can be accepted.',
  }),
  consoleLimitPerAddress: consoleArea({
    env: 'CONSOLE_LIMIT_PER_ADDRESS',
    default: '10',
    kind: int(1, 1_000_000),
    doc: 'Attempts per address and client IP per 15 minutes, counted apart for each kind (sign-in, codes asked, codes tried, sign-ups, resets).',
  }),
  consoleLimitPerIp: consoleArea({
    env: 'CONSOLE_LIMIT_PER_IP',
    default: '100',
    kind: int(1, 1_000_000),
    doc: 'Attempts per client IP per 15 minutes, counted apart for each kind.',
  }),
  consoleLimitPerAddressAllIps: consoleArea({
    env: 'CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS',
    default: '100',
    kind: int(1, 1_000_000),
    doc: 'Failed sign-ins and codes tried for one address from all IPs together, per 15 minutes.',
  }),
  consoleIdleTimeoutSeconds: consoleArea({
    env: 'CONSOLE_IDLE_TIMEOUT_SECONDS',
    default: '1800',
    kind: int(1, 30 * DAY),
    doc: 'A console session unused this long ends.',
  }),
  consoleStepUpSeconds: consoleArea({
    env: 'CONSOLE_STEP_UP_SECONDS',
    default: '300',
    kind: int(1, DAY),
    doc: 'Sensitive console actions need the password or a TOTP code given this recently (else 403 `STEP_UP_REQUIRED`).',
  }),
  consoleMaxWorkspacesPerAccount: consoleArea({
    env: 'CONSOLE_MAX_WORKSPACES_PER_ACCOUNT',
    default: '5',
    kind: int(1, 10_000),
    doc: 'Workspaces one account may own (409 `QUOTA_EXCEEDED` beyond).',
  }),
  consoleMaxTenantsPerWorkspace: consoleArea({
    env: 'CONSOLE_MAX_TENANTS_PER_WORKSPACE',
    default: '10',
    kind: int(1, 100),
    doc: 'Tenants one workspace may hold (409 `QUOTA_EXCEEDED` beyond).',
  }),

  // Development.
  devPages: development({
    env: 'RELAY_DEV_PAGES',
    default: 'false',
    kind: bool,
    doc: 'Development pages (`/dev/widget`, `/dev/inbox`, `/dev/passkeys`), loopback clients only; `npm start` turns them on. Never in production.',
  }),
};

export type Settings = typeof SETTINGS;

/** The variables in declaration order, with the Config property each fills. */
export const settingList = (): { key: keyof Settings; setting: Setting<unknown> }[] =>
  (Object.keys(SETTINGS) as (keyof Settings)[]).map((key) => ({ key, setting: SETTINGS[key] as Setting<unknown> }));
