/**
 * The one catalogue of jobs: each job name maps to its queue, its zod payload, its retry policy and
 * its timeout. Producers (queues/producer.ts) and processors (workers/processors.ts) take their
 * types from here, so a job without a queue, a payload schema or a processor does not compile.
 * Job names, like queue names, are persisted in Redis: never rename them.
 *
 * Payloads carry ids and, where an attempt would otherwise read MongoDB, the state it needs (a
 * callback's body); never secrets.
 *
 * Each job also lists its outcomes: what its processor may return when the job completes, which
 * BullMQ keeps as the job's returnvalue (shown on the queue dashboard). A processor returning a
 * string not in its list does not compile. Failures are not outcomes: they throw (and are retried).
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../platform/config.js';
import { QUEUE, type QueueName } from './names.js';

/** The name of the custom backoff strategy the workers register (workers/backoff.ts). */
export const SCHEDULE_BACKOFF = 'relay-schedule';

/** A delivery's job id: fixed per (delivery, replay), so enqueueing twice does nothing. */
export const deliveryJobId = (deliveryId: string, replay: number): string => (replay === 0 ? deliveryId : `${deliveryId}-r${replay}`);

/** `'count'`: the processor returns how many items it handled (a number) instead of a named outcome. */
type Outcomes = readonly string[] | 'count';

type JobDef<S extends z.ZodType, O extends Outcomes> = {
  queue: QueueName;
  payload: S;
  /** How a completed job ended, as its processor returns it. */
  outcomes: O;
  /** Fixed job id, so enqueueing the same work twice does nothing. */
  jobId?: (payload: z.infer<S>) => string;
  options: (config: Config) => JobsOptions;
  /** A processor running longer than this is aborted (its AbortSignal fires) and the attempt fails. */
  timeoutMs: (config: Config) => number;
};

const def = <S extends z.ZodType, const O extends Outcomes>(d: JobDef<S, O>): JobDef<S, O> => d;

/** One callback delivery's job: what an attempt needs, so it reads no MongoDB. */
const deliveryPayload = z.object({
  deliveryId: z.string().startsWith('dlv_'),
  tenantId: z.string().startsWith('tnt_'),
  replay: z.number().int().min(0),
  eventId: z.string().startsWith('evt_'),
  eventType: z.string(),
  url: z.string(),
  body: z.string(),
  createdAt: z.number().int(),
  /** Attempts the delivery made before this job (a replay's earlier jobs). */
  priorAttempts: z.number().int().min(0).default(0),
});

/** How approval.finalize ends (and push.expire-request, once it decided the request). */
const FINALIZE_OUTCOMES = [
  'finalized-approved',
  'finalized-denied',
  'finalized-expired',
  'finalized-cancelled',
  // Nothing to do: the request is no more in Redis, not decided yet, or finalized by an earlier run.
  'gone',
  'not-final',
  'already-finalized',
] as const;

// Completed jobs are only bookkeeping (the state lives in MongoDB): keep a window for the dashboard.
const keepCompleted = { age: 3600, count: 10_000 };
// Failed jobs are the queue-level dead letters: keep them for inspection and replay from the dashboard.
const keepFailed = { age: 30 * 24 * 3600 };

export const JOB_CATALOGUE = {
  // One callback delivery (workers/platform/deliver-webhook.ts). The job carries what an attempt
  // needs — the exact body to sign and send (an event's data, never a secret), the URL, the ids — so
  // an attempt reads no MongoDB.
  'webhook.deliver': def({
    queue: QUEUE.webhookDelivery,
    payload: deliveryPayload,
    // Only a delivered callback completes the job: a retry or a dead letter fails it (it throws).
    outcomes: ['succeeded'],
    // A replayed delivery gets a new job id (the old job may still sit in the failed set).
    jobId: (p) => deliveryJobId(p.deliveryId, p.replay),
    options: (c) => ({
      attempts: c.callbackRetryScheduleMs.length,
      backoff: { type: SCHEDULE_BACKOFF },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: (c) => c.callbackTimeoutMs + 5000,
  }),
  // The event of a tenant without a callback receiver, recorded in the event store.
  'event.record': def({
    queue: QUEUE.webhookDelivery,
    payload: z.object({
      eventId: z.string().startsWith('evt_'),
      tenantId: z.string().startsWith('tnt_'),
      eventType: z.string(),
      data: z.unknown(),
      createdAt: z.number().int(),
    }),
    outcomes: ['recorded'],
    jobId: (p) => p.eventId,
    options: () => ({
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 30_000,
  }),
  'maintenance.sweep-deliveries': def({
    queue: QUEUE.maintenance,
    payload: z.object({}),
    // How many pending deliveries it re-enqueued.
    outcomes: 'count',
    options: () => ({ attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } }),
    timeoutMs: () => 60_000,
  }),
  // Auth Relay: one FCM push of one approval request (challenge or alert) to one device (workers/auth/push.ts).
  'push.send': def({
    queue: QUEUE.push,
    payload: z.object({ tenantId: z.string().startsWith('tnt_'), requestId: z.string().min(4), deviceId: z.string().startsWith('dev_') }),
    // The push delivery's settled status (models/auth/approval-request.ts PUSH_STATUSES, all but `queued`).
    outcomes: ['sent', 'failed', 'invalid_token', 'no_token', 'skipped'],
    jobId: (p) => `push.${p.requestId}.${p.deviceId}`,
    // Transient FCM failures (UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED) retry with backoff; the error carries Retry-After.
    options: () => ({ attempts: 5, backoff: { type: 'push-backoff' }, removeOnComplete: keepCompleted, removeOnFail: keepFailed }),
    timeoutMs: () => 30_000,
  }),
  // Auth Relay: a new approval request written from its Redis state into MongoDB (its history).
  'approval.persist': def({
    queue: QUEUE.push,
    payload: z.object({ tenantId: z.string().startsWith('tnt_'), requestId: z.string().min(4) }),
    // `gone`: the request's Redis state is no more (it ended and was finalized long ago).
    outcomes: ['persisted', 'gone'],
    jobId: (p) => `persist.${p.requestId}`,
    options: () => ({
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 30_000,
  }),
  // Auth Relay: a decided approval request: its final state into MongoDB and its callbacks (models/auth/approval-flow.ts).
  'approval.finalize': def({
    queue: QUEUE.push,
    payload: z.object({ tenantId: z.string().startsWith('tnt_'), requestId: z.string().min(4) }),
    outcomes: FINALIZE_OUTCOMES,
    jobId: (p) => `finalize.${p.requestId}`,
    options: () => ({
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 30_000,
  }),
  // Auth Relay: a pending approval request reaching its expiry (delayed job) → expired + callback;
  // also finalizes a request that was decided but not finalized (the reconciler of last resort).
  'push.expire-request': def({
    queue: QUEUE.push,
    payload: z.object({ tenantId: z.string().startsWith('tnt_'), requestId: z.string().min(4) }),
    // A request still in Redis is finalized (FINALIZE_OUTCOMES); one Redis lost is expired from its
    // MongoDB record, unless that is `missing` too or already ended (`already-<status>`).
    outcomes: [
      ...FINALIZE_OUTCOMES,
      'missing',
      'already-approved',
      'already-denied',
      'already-expired',
      'already-cancelled',
      'already-informational',
    ],
    jobId: (p) => `expire.${p.requestId}`,
    options: () => ({
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 30_000,
  }),
  // Chat Relay: one message, numbered and fanned out by the API, written into MongoDB (batched with the
  // other messages in flight), then its callback and bot turn handed on (workers/chat/store-message.ts).
  'chat.message.store': def({
    queue: QUEUE.chatHistory,
    payload: z.object({
      tenantId: z.string().startsWith('tnt_'),
      message: z.object({
        id: z.string().startsWith('msg_'),
        conversation_id: z.string().startsWith('cnv_'),
        seq: z.number().int().min(1),
        sender_type: z.enum(['visitor', 'operator', 'bot', 'system']),
        sender_id: z.string().nullable(),
        text: z.string(),
        created_at: z.string(),
      }),
      /** The message-received callback (a webhook.deliver payload with ids fixed by the message), if the tenant has a receiver. */
      callback: deliveryPayload.nullable(),
      /** A visitor's message in the bot lane: the bot's turn follows once it is stored. */
      botTurn: z.boolean(),
    }),
    // `renumbered`: its number was taken (Redis lost the conversation's state), so it was appended again
    // under a new one; `tenant-gone`: that found the tenant deleted.
    outcomes: ['stored', 'renumbered', 'tenant-gone'],
    jobId: (p) => `store.${p.message.id}`,
    options: () => ({
      attempts: 10,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 30_000,
  }),
  // Chat Relay: one bot-lane turn — call the tenant's bot webhook for one visitor message (workers/chat/bot-turn.ts).
  'chat.bot-turn': def({
    queue: QUEUE.chat,
    payload: z.object({
      tenantId: z.string().startsWith('tnt_'),
      conversationId: z.string().startsWith('cnv_'),
      messageId: z.string().startsWith('msg_'),
    }),
    // `noop`: no bot configured and the conversation had already left the bot lane when escalating.
    outcomes: ['replied', 'escalated', 'escalated-after-failure', 'noop', 'not-in-bot-lane', 'message-gone', 'tenant-gone'],
    jobId: (p) => `bot.${p.messageId}`,
    // A failed bot call is retried once; after the last attempt the conversation escalates to a human.
    options: () => ({ attempts: 2, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed }),
    timeoutMs: (c) => c.chatBotTimeoutMs,
  }),
  // Console: one mail (a code, an invitation) sent over SMTP (workers/console/mail.ts). The payload is
  // only the mail's id: the mail, which may hold a code or a link, waits sealed in Redis (models/console/mail.ts).
  'console.mail': def({
    queue: QUEUE.mail,
    payload: z.object({ mailId: z.string().startsWith('ml_') }),
    // `expired`: the sealed mail's key lapsed before the job ran; `skipped`: SMTP_URL is not set.
    outcomes: ['sent', 'skipped', 'expired'],
    jobId: (p) => p.mailId,
    options: () => ({
      attempts: 6,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    }),
    timeoutMs: () => 60_000,
  }),
} as const;

export type JobName = keyof typeof JOB_CATALOGUE;
/** What a processor receives (defaults applied). */
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_CATALOGUE)[N]['payload']>;
/** What a producer hands in (fields with defaults may be left out). */
export type JobInput<N extends JobName> = z.input<(typeof JOB_CATALOGUE)[N]['payload']>;

/** What a completed job's processor returned: one of its catalogued outcomes, or a count. */
export type JobOutcome<N extends JobName> = (typeof JOB_CATALOGUE)[N]['outcomes'] extends readonly (infer O)[] ? O : number;

export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(JOB_CATALOGUE) as JobName[]).filter((n) => JOB_CATALOGUE[n].queue === queue);
}
