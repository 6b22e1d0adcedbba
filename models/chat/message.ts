/**
 * Chat messages: plain text (never rendered as HTML anywhere in the relay), stored before they are
 * fanned out, numbered per conversation (`seq`, see conversation-state.ts). A reconnecting client
 * asks for `seq > last_seen` and gets exactly what it missed, in order.
 */
import { Schema, model, type InferSchemaType } from 'mongoose';
import { baseSchemaOptions } from '../platform/common.js';

export const SENDER_TYPES = ['visitor', 'operator', 'bot', 'system'] as const;
export type SenderType = (typeof SENDER_TYPES)[number];

const messageSchema = new Schema(
  {
    _id: { type: String, required: true }, // msg_…
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    seq: { type: Number, required: true },
    sender_type: { type: String, enum: SENDER_TYPES, required: true },
    /** op_… for operators, vs_… for visitors, null for bot/system. */
    sender_id: { type: String, default: null },
    text: { type: String, required: true },
  },
  { ...baseSchemaOptions, collection: 'chat_messages' },
);
// Serves replay (`seq > n` in order) and guarantees a sequence number is used once.
messageSchema.index({ tenant_id: 1, conversation_id: 1, seq: 1 }, { unique: true });

export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: string; created_at: Date; updated_at: Date };
export const MessageModel = model('Message', messageSchema);

export type MessageView = {
  id: string;
  conversation_id: string;
  seq: number;
  sender_type: SenderType;
  sender_id: string | null;
  text: string;
  created_at: string;
};

type MessageFields = Pick<MessageView, 'conversation_id' | 'seq' | 'text'> & {
  _id: string;
  sender_type: string;
  sender_id?: string | null;
  created_at: Date;
};

export function messageView(m: MessageFields): MessageView {
  return {
    id: m._id,
    conversation_id: m.conversation_id,
    seq: m.seq,
    sender_type: m.sender_type as SenderType,
    sender_id: m.sender_id ?? null,
    text: m.text,
    created_at: new Date(m.created_at).toISOString(),
  };
}

/** Messages after `afterSeq`, in order. */
export async function messagesAfter(tenantId: string, conversationId: string, afterSeq: number, limit = 500): Promise<MessageDoc[]> {
  return MessageModel.find({ tenant_id: tenantId, conversation_id: conversationId, seq: { $gt: afterSeq } })
    .sort({ seq: 1 })
    .limit(limit)
    .lean<MessageDoc[]>();
}
