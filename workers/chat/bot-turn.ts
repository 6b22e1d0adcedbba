/**
 * Chat worker jobs. `chat.bot-turn`: one visitor message in the bot lane goes to the tenant's bot
 * webhook (`bot_webhook_url`), signed with HMAC #1 exactly like a callback, within the job timeout
 * (CHAT_BOT_TIMEOUT_MS). The bot answers `{reply?: string, escalate?: boolean}`: a reply is stored
 * and fanned out as a `bot` message; an escalation queues the conversation for a human and opens a
 * ticket. A bot that keeps failing (network, 5xx, unreadable answer) escalates after the last attempt,
 * so a visitor is never left talking to nobody.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import type { FlowDeps } from '../../models/platform/deps.js';
import { appendMessage } from '../../models/chat/conversation-messages.js';
import { escalate } from '../../models/chat/escalation.js';
import { ConversationModel, type ConversationDoc } from '../../models/chat/conversation.js';
import { MessageModel, messageView, type MessageDoc } from '../../models/chat/message.js';
import type { TenantStore } from '../../models/platform/tenant-store.js';
import { VisitorSessionModel, type VisitorSessionDoc } from '../../models/chat/visitor-session.js';
import { signedHeaders } from '../../platform/signing.js';
import type { OutboundHttp } from '../../platform/outbound-http.js';
import type { JobOutcome, JobPayload } from '../../queues/catalogue.js';

export type ChatWorkerDeps = FlowDeps & { tenants: TenantStore; http: OutboundHttp };

const botAnswer = z.object({ reply: z.string().trim().min(1).optional(), escalate: z.boolean().optional() });
const BOT_ANSWER_LIMIT = 64 * 1024;

/** POSTs the signed turn to the bot (platform/outbound-http.ts); returns its parsed answer or throws (transient: retried). */
async function callBot(
  deps: ChatWorkerDeps,
  url: string,
  tenantId: string,
  secret: string,
  body: string,
  signal: AbortSignal,
): Promise<z.infer<typeof botAnswer>> {
  const res = await deps.http.post(url, body, signedHeaders(tenantId, secret, body), {
    signal,
    timeoutMs: deps.config.chatBotTimeoutMs,
    keepBytes: BOT_ANSWER_LIMIT,
    readLimitBytes: BOT_ANSWER_LIMIT,
    userAgent: 'BloonioRelay-Bot/1',
  });
  if (!('statusCode' in res)) {
    if (res.outcome === 'refused') throw new UnrecoverableError(res.error);
    throw new Error(`bot unreachable: ${res.error}`);
  }
  if (res.outcome === 'http_error') throw new Error(`bot answered HTTP ${res.statusCode}`);
  if (res.truncated) throw new UnrecoverableError('bot answer too large');
  let json: unknown = {};
  try {
    if (res.responseBody.trim()) json = JSON.parse(res.responseBody);
  } catch {
    throw new UnrecoverableError('bot answer is not JSON');
  }
  const parsed = botAnswer.safeParse(json);
  if (!parsed.success) throw new UnrecoverableError('bot answer is not {reply?: string, escalate?: boolean}');
  return parsed.data;
}

export function createBotTurnProcessor(deps: ChatWorkerDeps) {
  return async (
    job: Job,
    _token: string | undefined,
    p: JobPayload<'chat.bot-turn'>,
    signal: AbortSignal,
  ): Promise<JobOutcome<'chat.bot-turn'>> => {
    // 1. Load the state; a conversation that already left the bot lane needs nothing.
    const entry = await deps.tenants.load(p.tenantId);
    if (!entry) return 'tenant-gone';
    const tenant = entry.tenant;
    const conv = await ConversationModel.findOne({ _id: p.conversationId, tenant_id: p.tenantId }).lean<ConversationDoc>();
    if (!conv || conv.status !== 'bot') return 'not-in-bot-lane';
    if (!tenant.bot_webhook_url) return (await escalate(deps, tenant, conv._id, 'no_bot_configured')) ? 'escalated' : 'noop';
    const msg = await MessageModel.findOne({ _id: p.messageId, tenant_id: p.tenantId }).lean<MessageDoc>();
    if (!msg) return 'message-gone';
    const session = await VisitorSessionModel.findOne({ _id: conv.session_id, tenant_id: p.tenantId }).lean<VisitorSessionDoc>();

    // 2. Call the bot, signed; on the last failed attempt, hand the visitor to a human.
    const body = JSON.stringify({
      event_type: 'chat.bot-turn',
      tenant_id: tenant._id,
      conversation_id: conv._id,
      session_id: conv.session_id,
      routing_key: conv.routing_key ?? null,
      locale: session?.locale ?? null,
      metadata: session?.metadata ?? {},
      message: messageView(msg),
    });
    let answer: z.infer<typeof botAnswer>;
    try {
      answer = await callBot(deps, tenant.bot_webhook_url, tenant._id, entry.secrets[0] ?? '', body, signal);
    } catch (err) {
      const last = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger.warn({ conversation_id: conv._id, err: String(err).slice(0, 200), last }, 'bot call failed');
      if (!last) throw err;
      await escalate(deps, tenant, conv._id, 'bot_unavailable');
      return 'escalated-after-failure';
    }

    // 3. Apply the answer: the reply first (the visitor reads it before the hand-over), then the escalation.
    if (answer.reply) {
      await appendMessage(deps, tenant, conv._id, { type: 'bot', id: null }, answer.reply.slice(0, deps.config.chatMessageMaxChars));
    }
    if (answer.escalate) await escalate(deps, tenant, conv._id, 'bot_escalated');
    return answer.escalate ? 'escalated' : 'replied';
  };
}
