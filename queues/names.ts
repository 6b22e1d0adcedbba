/**
 * Queue names. These are Redis key names in production: NEVER rename one once deployed (jobs
 * waiting under the old name would be orphaned). Add new queues; retire old ones only when empty.
 */
export const QUEUE = {
  webhookDelivery: 'webhook-delivery',
  /** Auth Relay: FCM pushes, approval requests' persistence, expiry and finalization. */
  push: 'push',
  chat: 'chat',
  /** Chat messages written from Redis into MongoDB in batches, then their callbacks handed on. */
  chatHistory: 'chat-history',
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE);
