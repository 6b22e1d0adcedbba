/**
 * One visitor's socket (`/api/v1/ws/widget?token=<visitor_token>[&last_seq=n][&tenant_id=]`): its own
 * conversation only. On connect: the visitor check (api/principals/visitor.ts, the same rules as the
 * REST routes: 4401 / 4403), a `welcome`, then exactly the messages after `last_seq`, from MongoDB.
 * Frames: message (stored, acked with its sequence number), typing, read, ping.
 */
import type http from 'node:http';
import type { WebSocket } from 'ws';
import { conversationState, oneWithLiveSeq } from '../../../models/chat/conversation-state.js';
import { conversationView } from '../../../models/chat/conversation.js';
import { visitorMessage } from '../../../models/chat/conversation-messages.js';
import { signal } from '../../../models/chat/operator-access.js';
import { findConversation } from '../../../models/chat/conversation.js';
import type { AppDeps } from '../../context.js';
import { ApiError } from '../../errors.js';
import { authenticateVisitor } from '../../principals/visitor.js';
import { CLOSE, messageText, parseFrame, send, visitorFrame } from './frames.js';
import type { ChatHub, VisitorConn } from './hub.js';
import { oncePerClientId } from './client-ids.js';
import { checkVisitorMessage } from './limits.js';

export async function openVisitor(
  hub: ChatHub,
  deps: AppDeps,
  ws: WebSocket,
  req: http.IncomingMessage,
  url: URL,
  welcomed: () => void = () => undefined,
): Promise<VisitorConn | null> {
  const check = await authenticateVisitor(deps, url.searchParams.get('token') ?? '', {
    originHeader: req.headers.origin,
    allowExpired: false,
    askedTenant: url.searchParams.get('tenant_id'),
  });
  if (!check.ok) {
    ws.close(check.status === 401 ? CLOSE.badToken : CLOSE.refused, check.reason.slice(0, 120));
    return null;
  }
  const { claims, session } = check;
  if (!(await hub.admit(ws, claims.tid))) return null;
  const v: VisitorConn = {
    kind: 'visitor',
    ws,
    tenantId: claims.tid,
    lastActive: Date.now(),
    queue: Promise.resolve(),
    claims,
    session,
    conv: session.conversation_id ?? null,
    seq: null,
  };
  hub.join(v);
  const stored = v.conv ? await findConversation(v.tenantId, v.conv) : null;
  const conv = stored ? await oneWithLiveSeq(deps, stored) : null;
  const lastSeq = Math.max(0, Number(url.searchParams.get('last_seq') ?? 0) || 0);
  send(ws, {
    type: 'welcome',
    session_id: session._id,
    conversation: conv ? conversationView(conv) : null,
    resume_after_seq: lastSeq,
    server_time: new Date().toISOString(),
  });
  // The handshake is over: the replay below may take long on a cold conversation (MongoDB), and is
  // not what the handshake deadline guards against.
  welcomed();
  if (conv) await hub.visitorSeq(v, conv._id, lastSeq).fill();
  return v;
}

export async function visitorFrameIn(deps: AppDeps, v: VisitorConn, json: unknown): Promise<void> {
  const f = parseFrame(visitorFrame, json);
  if (f.type === 'ping') return send(v.ws, { type: 'pong' });
  const active = await deps.tenants.getActive(v.tenantId);
  if ('refused' in active) return void v.ws.close(CLOSE.refused, 'tenant refused');
  if (f.type === 'message') {
    // The same client_id again (a resend after a lost ack) is acknowledged again, not stored twice.
    const { ack, duplicate } = await oncePerClientId(deps, v.tenantId, v.session._id, f.client_id, async () => {
      const limit = await checkVisitorMessage(deps, v.tenantId, v.session._id);
      if (limit === 'session') return (void v.ws.close(CLOSE.rateLimited, 'too many messages'), null);
      if (limit === 'tenant')
        throw new ApiError('RATE_LIMITED', 'This site is sending too many messages right now; try again in a second.', [], {
          'Retry-After': '1',
        });
      const m = await visitorMessage(deps, active.entry.tenant, v.session, messageText(deps.config, f.text));
      return { message_id: m.id, seq: m.seq, conversation_id: m.conversation_id };
    });
    if (!ack) return;
    v.session.conversation_id = ack.conversation_id;
    v.conv ??= ack.conversation_id;
    return send(v.ws, { type: 'ack', client_id: f.client_id ?? null, ...ack, ...(duplicate ? { duplicate: true } : {}) });
  }
  if (!v.conv) return;
  const conv = await conversationState(deps, v.tenantId, v.conv);
  if (!conv) return;
  await signal(deps, conv, 'visitor', f.type === 'typing' ? { kind: 'typing', on: f.on } : { kind: 'read', seq: f.seq });
}
