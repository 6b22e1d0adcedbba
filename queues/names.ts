/**
 * Queue names. These are Redis key names in production: NEVER rename one once deployed (jobs
 * waiting under the old name would be orphaned). Add new queues; retire old ones only when empty.
 */
import { isClusterUrl } from '../platform/redis-url.js';

export const QUEUE = {
  webhookDelivery: 'webhook-delivery',
  /** Auth Relay: FCM pushes, approval requests' persistence, expiry and finalization. */
  push: 'push',
  chat: 'chat',
  /** Chat messages written from Redis into MongoDB in batches, then their callbacks handed on. */
  chatHistory: 'chat-history',
  maintenance: 'maintenance',
  /** Console mail (codes, invitations) over SMTP. */
  mail: 'mail',
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE);

/**
 * The BullMQ `prefix` of a queue. On one Redis (or Sentinel) it is QUEUE_PREFIX, as it always was (the
 * keys are persisted). On Redis Cluster, BullMQ's scripts touch several keys of a queue at once, so the
 * queue's keys need one hash tag: `{<QUEUE_PREFIX>:<queue>}`, one per queue, which spreads the queues
 * over the cluster's nodes (nothing the relay does spans two queues in one command).
 */
export function bullPrefix(config: { queuePrefix: string; redisUrl: string }, queue: QueueName): string {
  return isClusterUrl(config.redisUrl) ? `{${config.queuePrefix}:${queue}}` : config.queuePrefix;
}
