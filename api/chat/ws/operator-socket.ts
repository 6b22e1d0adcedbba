/**
 * One operator's socket (`/api/v1/ws/operator?token=<operator_token>[&tenant_id=]`): its tenant and
 * routing keys only. On connect: the operator check (api/principals/operator.ts, the same rules as the
 * REST routes: 4401 / 4403) and a `welcome`. Then, on every frame, the operator's hot record again
 * (4401 once deprovisioned or changed); a timer closes the socket (4401) when its token expires, and
 * the hub closes it at once when any process announces a change of the operator's access. Frames: take / release / resolve (answered by a `result`
 * frame with the client's `ref`), message, typing, read, sync (replay after a number), ping.
 */
import type { WebSocket } from 'ws';
import { conversationView } from '../../../models/chat/conversation.js';
import { operatorReply, operatorSignal, visibleConversation } from '../../../models/chat/operator-access.js';
import { releaseConversation, resolveConversation, takeConversation } from '../../../models/chat/take-release-resolve.js';
import type { AppDeps } from '../../context.js';
import { asApiError } from '../../errors.js';
import { authenticateOperator, currentOperator } from '../../principals/operator.js';
import { CLOSE, messageText, operatorFrame, parseFrame, send } from './frames.js';
import type { ChatHub, OperatorConn } from './hub.js';

export async function openOperator(hub: ChatHub, deps: AppDeps, ws: WebSocket, url: URL): Promise<OperatorConn | null> {
  const auth = await authenticateOperator(deps, url.searchParams.get('token') ?? '', url.searchParams.get('tenant_id') ?? undefined);
  if (!auth.ok) {
    ws.close(auth.status === 401 ? CLOSE.badToken : CLOSE.refused, auth.reason);
    return null;
  }
  const { operator: op, tenant, role, expiresAt } = auth.principal;
  if (!(await hub.admit(ws, tenant.tenant._id))) return null;
  const o: OperatorConn = {
    kind: 'operator',
    ws,
    tenantId: tenant.tenant._id,
    lastActive: Date.now(),
    queue: Promise.resolve(),
    op,
    role,
    seqs: new Map(),
    ver: op.v,
    expiry: setTimeout(() => ws.close(CLOSE.badToken, 'operator token expired'), Math.max(0, expiresAt - Date.now())),
  };
  o.expiry?.unref();
  ws.once('close', () => clearTimeout(o.expiry));
  hub.join(o);
  send(ws, {
    type: 'welcome',
    tenant_id: o.tenantId,
    operator: { id: op._id, display_name: op.display_name, routing_keys: op.routing_keys ?? [], role },
    server_time: new Date().toISOString(),
  });
  return o;
}

const ACTIONS = { take: takeConversation, release: releaseConversation, resolve: resolveConversation } as const;

export async function operatorFrameIn(hub: ChatHub, deps: AppDeps, o: OperatorConn, json: unknown): Promise<void> {
  // Every frame: still this version, still active (the hub's close may be a moment behind this frame).
  if (!(await currentOperator(deps, o.tenantId, o.op._id, o.ver))) return void o.ws.close(CLOSE.badToken, 'operator access changed');
  const f = parseFrame(operatorFrame, json);
  if (f.type === 'ping') return send(o.ws, { type: 'pong' });
  const active = await deps.tenants.getActive(o.tenantId);
  if ('refused' in active) return void o.ws.close(CLOSE.refused, 'tenant refused');
  const tenant = active.entry.tenant;
  switch (f.type) {
    case 'take':
    case 'release':
    case 'resolve': {
      try {
        const conv = await ACTIONS[f.type](deps, tenant, o.op, o.role, f.conversation_id);
        return send(o.ws, { type: 'result', action: f.type, ref: f.ref ?? null, ok: true, conversation: conversationView(conv) });
      } catch (err) {
        const e = asApiError(err);
        if (!e) throw err;
        return send(o.ws, {
          type: 'result',
          action: f.type,
          ref: f.ref ?? null,
          ok: false,
          status: e.status,
          code: e.code,
          message: e.message,
        });
      }
    }
    case 'message': {
      const m = await operatorReply(deps, tenant, o.op, o.role, f.conversation_id, messageText(deps.config, f.text));
      return send(o.ws, { type: 'ack', client_id: f.client_id ?? null, message_id: m.id, seq: m.seq, conversation_id: m.conversation_id });
    }
    case 'sync': {
      const conv = await visibleConversation(deps, o.op, o.role, f.conversation_id);
      const s = hub.operatorSeq(o, conv._id, f.last_seq);
      if (s.last > f.last_seq) s.last = f.last_seq;
      return s.fill();
    }
    case 'typing':
    case 'read':
      await operatorSignal(
        deps,
        o.op,
        o.role,
        f.conversation_id,
        f.type === 'typing' ? { kind: 'typing', on: f.on } : { kind: 'read', seq: f.seq },
      );
      return;
  }
}
