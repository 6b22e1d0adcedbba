/**
 * The chat sockets' wire format (documented on POST /create/visitor-session and in api/chat/operator.ts):
 * JSON frames both ways, application close codes in the 44xx range.
 */
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Config } from '../../../platform/config.js';
import { ApiError } from '../../errors.js';

export const CLOSE = { badToken: 4401, refused: 4403, idle: 4408, rateLimited: 4429 } as const;
export const MAX_FRAME_BYTES = 32 * 1024;

export const send = (ws: WebSocket, frame: unknown): void => {
  if (ws.readyState === ws.OPEN) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
};

export const visitorFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), text: z.string(), client_id: z.string().max(100).optional() }),
  z.object({ type: z.literal('typing'), on: z.boolean() }),
  z.object({ type: z.literal('read'), seq: z.number().int().min(0) }),
  z.object({ type: z.literal('ping') }),
]);

export const operatorFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), conversation_id: z.string(), text: z.string(), client_id: z.string().max(100).optional() }),
  z.object({ type: z.literal('typing'), conversation_id: z.string(), on: z.boolean() }),
  z.object({ type: z.literal('read'), conversation_id: z.string(), seq: z.number().int().min(0) }),
  z.object({ type: z.enum(['take', 'release', 'resolve']), conversation_id: z.string(), ref: z.string().max(100).optional() }),
  z.object({ type: z.literal('sync'), conversation_id: z.string(), last_seq: z.number().int().min(0) }),
  z.object({ type: z.literal('ping') }),
]);

export function parseFrame<S extends z.ZodType>(schema: S, json: unknown): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError('VALIDATION_FAILED', 'Unknown or invalid frame.');
  return parsed.data;
}

/** A message's text: trimmed, not empty, at most CHAT_MESSAGE_MAX_CHARS. Plain text, never HTML. */
export function messageText(config: Config, raw: string): string {
  const t = raw.trim();
  if (!t) throw new ApiError('VALIDATION_FAILED', 'A message needs some text.');
  if (t.length > config.chatMessageMaxChars)
    throw new ApiError('VALIDATION_FAILED', `A message holds at most ${config.chatMessageMaxChars} characters.`);
  return t;
}
