/**
 * The chat WebSockets, on the API's own HTTP server (SPEC §3.1, §3.3):
 *   /api/v1/ws/widget?token=<visitor_token>[&last_seq=n]   one visitor, its own conversation only
 *   /api/v1/ws/operator?token=<operator_token>[&tenant_id=] one operator, its tenant and routing keys
 *
 * Fan-out across API processes: every state change is stored, then published on the tenant's Redis
 * channel (models/chat/chat-flow.ts); each process subscribes to the channels of the tenants it holds
 * sockets for and relays each event to the sockets allowed to see it. Messages go through a
 * per-socket Sequencer, so a socket sees each sequence number once and in order, and a reconnecting
 * client (`last_seq`) gets exactly what it missed, read from MongoDB.
 *
 * Close codes: 4401 bad or expired token, 4403 tenant/origin refused, 4408 idle (no pong, no frame),
 * 4429 rate limited. The token is never logged.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import {
  chatChannel,
  operatorReply,
  releaseConversation,
  resolveConversation,
  operatorSignal,
  signal,
  takeConversation,
  visibleConversation,
  visitorMessage,
  type BusEvent,
} from '../../../models/chat/chat-flow.js';
import { ConversationModel, conversationView, routingAllows, type ConversationDoc } from '../../../models/chat/conversation.js';
import { conversationState, oneWithLiveSeq } from '../../../models/chat/conversation-state.js';
import { messagesAfter, messageView, type MessageView } from '../../../models/chat/message.js';
import type { OperatorDoc } from '../../../models/chat/operator.js';
import { VisitorSessionModel, type VisitorSessionDoc } from '../../../models/chat/visitor-session.js';
import { ApiError } from '../../../platform/errors.js';
import type { AppDeps } from '../../context.js';
import { authenticateOperator, originAllowed, readToken, widgetKeyHash, type VisitorClaims } from '../../principals/chat-tokens.js';
import { Sequencer } from './sequencer.js';
import { allowConnect, checkVisitorMessage } from './limits.js';
import { oncePerClientId } from './client-ids.js';

export const CLOSE = { badToken: 4401, refused: 4403, idle: 4408, rateLimited: 4429 } as const;
const MAX_FRAME_BYTES = 32 * 1024;

type Base = { ws: WebSocket; tenantId: string; lastActive: number; queue: Promise<void> };
type VisitorConn = Base & {
  kind: 'visitor';
  claims: VisitorClaims;
  session: VisitorSessionDoc;
  conv: string | null;
  seq: Sequencer | null;
};
type OperatorConn = Base & { kind: 'operator'; op: OperatorDoc; role: string; seqs: Map<string, Sequencer> };
type Conn = VisitorConn | OperatorConn;
type TenantRoom = { visitors: Map<string, Set<VisitorConn>>; operators: Set<OperatorConn>; count: number };

export type ChatSockets = { close: () => Promise<void>; counts: () => { visitors: number; operators: number } };

const send = (ws: WebSocket, frame: unknown) => {
  if (ws.readyState === ws.OPEN) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
};

const visitorFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), text: z.string(), client_id: z.string().max(100).optional() }),
  z.object({ type: z.literal('typing'), on: z.boolean() }),
  z.object({ type: z.literal('read'), seq: z.number().int().min(0) }),
  z.object({ type: z.literal('ping') }),
]);
const operatorFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), conversation_id: z.string(), text: z.string(), client_id: z.string().max(100).optional() }),
  z.object({ type: z.literal('typing'), conversation_id: z.string(), on: z.boolean() }),
  z.object({ type: z.literal('read'), conversation_id: z.string(), seq: z.number().int().min(0) }),
  z.object({ type: z.enum(['take', 'release', 'resolve']), conversation_id: z.string(), ref: z.string().max(100).optional() }),
  z.object({ type: z.literal('sync'), conversation_id: z.string(), last_seq: z.number().int().min(0) }),
  z.object({ type: z.literal('ping') }),
]);

export function attachChatSockets(server: http.Server, deps: AppDeps): ChatSockets {
  const { config, logger } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const rooms = new Map<string, TenantRoom>();
  const conns = new Set<Conn>();
  // A subscriber connection waits for Redis to come back (and resubscribes) rather than failing fast.
  const sub = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  sub.on('error', (err) => logger.warn({ err: String(err) }, 'chat subscriber redis error'));
  sub.on('message', (_channel: string, payload: string) => {
    try {
      dispatch(JSON.parse(payload) as BusEvent);
    } catch (err) {
      logger.error({ err: String(err) }, 'chat dispatch failed');
    }
  });

  const fetchAfter = (tenantId: string, conversationId: string) => async (after: number) =>
    (await messagesAfter(tenantId, conversationId, after)).map(messageView);

  // -------------------------------------------------------------------------------------------
  // Rooms and the bus
  // -------------------------------------------------------------------------------------------
  function room(tenantId: string): TenantRoom {
    let r = rooms.get(tenantId);
    if (!r) {
      r = { visitors: new Map(), operators: new Set(), count: 0 };
      rooms.set(tenantId, r);
      sub
        .subscribe(chatChannel(config.queuePrefix, tenantId))
        .catch((err: unknown) => logger.warn({ err: String(err) }, 'chat subscribe failed'));
    }
    return r;
  }

  function join(c: Conn): void {
    const r = room(c.tenantId);
    if (c.kind === 'visitor') {
      let set = r.visitors.get(c.session._id);
      if (!set) r.visitors.set(c.session._id, (set = new Set()));
      set.add(c);
    } else r.operators.add(c);
    conns.add(c);
  }

  function leave(c: Conn): void {
    if (!conns.delete(c)) return;
    const r = rooms.get(c.tenantId);
    if (c.kind === 'visitor') c.seq?.stop();
    else for (const s of c.seqs.values()) s.stop();
    if (!r) return;
    r.count--;
    if (c.kind === 'visitor') {
      const set = r.visitors.get(c.session._id);
      set?.delete(c);
      if (set && set.size === 0) r.visitors.delete(c.session._id);
    } else r.operators.delete(c);
    if (r.count <= 0) {
      rooms.delete(c.tenantId);
      sub.unsubscribe(chatChannel(config.queuePrefix, c.tenantId)).catch(() => undefined);
    }
  }

  const operatorSees = (o: OperatorConn, ev: BusEvent) => o.role === 'admin' || routingAllows(o.op.routing_keys, ev.routing_key);
  // Message-level traffic (messages, typing, reads) goes to the assignee, or to every eligible operator while unassigned.
  const operatorFollows = (o: OperatorConn, ev: BusEvent) => operatorSees(o, ev) && (ev.assignee === null || ev.assignee === o.op._id);

  function operatorSeq(o: OperatorConn, conversationId: string, startAfter: number, midway = false): Sequencer {
    let s = o.seqs.get(conversationId);
    if (!s) {
      if (o.seqs.size > 2000) {
        const [oldest, seq] = o.seqs.entries().next().value as [string, Sequencer];
        seq.stop();
        o.seqs.delete(oldest);
      }
      s = new Sequencer(
        startAfter,
        (m) => send(o.ws, { type: 'message', conversation_id: conversationId, message: m }),
        fetchAfter(o.tenantId, conversationId),
        midway,
      );
      o.seqs.set(conversationId, s);
    }
    return s;
  }

  function visitorSeq(v: VisitorConn, conversationId: string): Sequencer {
    if (!v.seq || v.conv !== conversationId) {
      v.seq?.stop();
      v.conv = conversationId;
      v.seq = new Sequencer(0, (m) => send(v.ws, { type: 'message', message: m }), fetchAfter(v.tenantId, conversationId));
    }
    return v.seq;
  }

  function dispatch(ev: BusEvent): void {
    const r = rooms.get(ev.tenant_id);
    if (!r) return;
    const visitors = r.visitors.get(ev.session_id) ?? new Set<VisitorConn>();
    switch (ev.kind) {
      case 'message':
        for (const v of visitors) visitorSeq(v, ev.conversation_id).push(ev.message);
        for (const o of r.operators)
          if (operatorFollows(o, ev)) operatorSeq(o, ev.conversation_id, ev.message.seq - 1, true).push(ev.message);
        return;
      case 'conversation': {
        for (const v of visitors) {
          v.conv ??= ev.conversation_id;
          if (ev.change === 'assigned' && ev.operator) send(v.ws, { type: 'agent_joined', operator: ev.operator });
          if ((ev.change === 'released' || ev.change === 'resolved') && ev.operator)
            send(v.ws, { type: 'agent_left', operator: ev.operator });
          send(v.ws, { type: 'status', conversation: ev.conversation });
        }
        const frame = JSON.stringify({
          type: 'conversation',
          change: ev.change,
          conversation: ev.conversation,
          operator: ev.operator ?? null,
        });
        for (const o of r.operators) if (operatorSees(o, ev)) send(o.ws, frame);
        return;
      }
      case 'typing':
      case 'read': {
        const data = ev.kind === 'typing' ? { on: ev.on } : { seq: ev.seq };
        if (ev.from === 'visitor') {
          for (const o of r.operators)
            if (operatorFollows(o, ev)) send(o.ws, { type: ev.kind, from: 'visitor', conversation_id: ev.conversation_id, ...data });
        } else {
          for (const v of visitors) send(v.ws, { type: ev.kind, from: 'operator', ...data });
        }
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Connections
  // -------------------------------------------------------------------------------------------
  /** Admission common to both kinds: per-process and per-tenant connection limits. */
  async function admit(ws: WebSocket, tenantId: string): Promise<boolean> {
    const r = rooms.get(tenantId);
    if ((r?.count ?? 0) >= config.chatConnectionsPerTenant || !(await allowConnect(deps, tenantId))) {
      ws.close(CLOSE.rateLimited, 'too many connections for this tenant');
      return false;
    }
    room(tenantId).count++;
    return true;
  }

  async function openVisitor(ws: WebSocket, req: http.IncomingMessage, url: URL, early: RawData[]): Promise<VisitorConn | null> {
    const read = readToken(config, url.searchParams.get('token') ?? '');
    if (!read || read.claims.typ !== 'visitor') return refuse(ws, CLOSE.badToken, 'invalid visitor token');
    if (read.expired) return refuse(ws, CLOSE.badToken, 'visitor token expired');
    const claims = read.claims;
    const askedTenant = url.searchParams.get('tenant_id');
    if (askedTenant && askedTenant !== claims.tid) return refuse(ws, CLOSE.refused, 'token not valid for this tenant');
    const entry = await deps.tenants.get(claims.tid);
    if (!entry || entry.tenant.status !== 'active') return refuse(ws, CLOSE.refused, 'tenant refused');
    if (widgetKeyHash(entry.tenant.widget_public_key) !== claims.wkh)
      return refuse(ws, CLOSE.badToken, 'widget key rotated; refresh the token');
    // A browser always sends Origin: it must be the origin the token was issued for, still allowed.
    const origin = req.headers.origin;
    if (claims.org !== null) {
      if (origin !== undefined && origin !== claims.org) return refuse(ws, CLOSE.refused, 'origin does not match the token');
      if (!originAllowed(entry.tenant, claims.org)) return refuse(ws, CLOSE.refused, 'origin no longer allowed');
    }
    const session = await VisitorSessionModel.findOne({ _id: claims.sid, tenant_id: claims.tid }).lean<VisitorSessionDoc>();
    if (!session || session.expires_at.getTime() <= Date.now()) return refuse(ws, CLOSE.badToken, 'visitor session ended');
    if (!(await admit(ws, claims.tid))) return null;

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
    join(v);
    const stored = v.conv ? await ConversationModel.findOne({ _id: v.conv, tenant_id: v.tenantId }).lean<ConversationDoc>() : null;
    const conv = stored ? await oneWithLiveSeq(deps, stored) : null;
    const lastSeq = Math.max(0, Number(url.searchParams.get('last_seq') ?? 0) || 0);
    send(ws, {
      type: 'welcome',
      session_id: session._id,
      conversation: conv ? conversationView(conv) : null,
      resume_after_seq: lastSeq,
      server_time: new Date().toISOString(),
    });
    if (conv) {
      v.seq = new Sequencer(lastSeq, (m) => send(ws, { type: 'message', message: m }), fetchAfter(v.tenantId, conv._id));
      await v.seq.fill();
    }
    ws.on('message', (data) => onFrame(v, data));
    for (const d of early) onFrame(v, d);
    return v;
  }

  async function openOperator(ws: WebSocket, url: URL, early: RawData[]): Promise<OperatorConn | null> {
    const auth = await authenticateOperator(deps, url.searchParams.get('token') ?? '', url.searchParams.get('tenant_id') ?? undefined);
    if (!auth.ok) return refuse(ws, auth.status === 401 ? CLOSE.badToken : CLOSE.refused, auth.reason);
    const { operator: op, tenant, role } = auth.principal;
    if (!(await admit(ws, tenant.tenant._id))) return null;
    const o: OperatorConn = {
      kind: 'operator',
      ws,
      tenantId: tenant.tenant._id,
      lastActive: Date.now(),
      queue: Promise.resolve(),
      op,
      role,
      seqs: new Map(),
    };
    join(o);
    send(ws, {
      type: 'welcome',
      tenant_id: o.tenantId,
      operator: { id: op._id, display_name: op.display_name, routing_keys: op.routing_keys ?? [], role },
      server_time: new Date().toISOString(),
    });
    ws.on('message', (data) => onFrame(o, data));
    for (const d of early) onFrame(o, d);
    return o;
  }

  function refuse(ws: WebSocket, code: number, reason: string): null {
    ws.close(code, reason);
    return null;
  }

  /** Frames of one socket are handled one after the other, so a client's messages keep their order. */
  function onFrame(c: Conn, data: RawData): void {
    c.lastActive = Date.now();
    // The liveness sweep closes expired sockets within a few seconds; until then, refuse their frames.
    if (c.kind === 'visitor' && c.claims.exp * 1000 <= c.lastActive) return void c.ws.close(CLOSE.badToken, 'visitor token expired');
    // The frame's client_id (if any) comes back on its error frame, so a client knows which message failed.
    let clientId: string | null = null;
    c.queue = c.queue
      .then(() => {
        let json: unknown;
        try {
          json = JSON.parse(String(data));
        } catch {
          throw new ApiError('MALFORMED_JSON', 'Frames are JSON objects.');
        }
        const id = (json as { client_id?: unknown } | null)?.client_id;
        if (typeof id === 'string' && id.length <= 100) clientId = id;
        return c.kind === 'visitor' ? visitorFrameIn(c, json) : operatorFrameIn(c, json);
      })
      .catch((err: unknown) => {
        const e = err instanceof ApiError ? err : null;
        if (!e) logger.error({ err: String(err) }, 'chat frame failed');
        send(c.ws, {
          type: 'error',
          code: e?.code ?? 'INTERNAL_ERROR',
          status: e?.status ?? 500,
          message: e?.message ?? 'An unexpected error occurred.',
          client_id: clientId,
        });
      });
  }

  function text(raw: string): string {
    const t = raw.trim();
    if (!t) throw new ApiError('VALIDATION_FAILED', 'A message needs some text.');
    if (t.length > config.chatMessageMaxChars)
      throw new ApiError('VALIDATION_FAILED', `A message holds at most ${config.chatMessageMaxChars} characters.`);
    return t;
  }

  async function visitorFrameIn(v: VisitorConn, json: unknown): Promise<void> {
    const parsed = visitorFrame.safeParse(json);
    if (!parsed.success) throw new ApiError('VALIDATION_FAILED', 'Unknown or invalid frame.');
    const f = parsed.data;
    if (f.type === 'ping') return send(v.ws, { type: 'pong' });
    const entry = await deps.tenants.get(v.tenantId);
    if (!entry || entry.tenant.status !== 'active') return void v.ws.close(CLOSE.refused, 'tenant refused');
    if (f.type === 'message') {
      // The same client_id again (a resend after a lost ack) is acknowledged again, not stored twice.
      const { ack, duplicate } = await oncePerClientId(deps, v.tenantId, v.session._id, f.client_id, async () => {
        const limit = await checkVisitorMessage(deps, v.tenantId, v.session._id);
        if (limit === 'session') return (void v.ws.close(CLOSE.rateLimited, 'too many messages'), null);
        if (limit === 'tenant')
          throw new ApiError('RATE_LIMITED', 'This site is sending too many messages right now; try again in a second.', [], {
            'Retry-After': '1',
          });
        const m = await visitorMessage(deps, entry.tenant, v.session, text(f.text));
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

  async function operatorFrameIn(o: OperatorConn, json: unknown): Promise<void> {
    const parsed = operatorFrame.safeParse(json);
    if (!parsed.success) throw new ApiError('VALIDATION_FAILED', 'Unknown or invalid frame.');
    const f = parsed.data;
    if (f.type === 'ping') return send(o.ws, { type: 'pong' });
    const entry = await deps.tenants.get(o.tenantId);
    if (!entry || entry.tenant.status !== 'active') return void o.ws.close(CLOSE.refused, 'tenant refused');
    const tenant = entry.tenant;
    switch (f.type) {
      case 'take':
      case 'release':
      case 'resolve': {
        const act = f.type === 'take' ? takeConversation : f.type === 'release' ? releaseConversation : resolveConversation;
        try {
          const conv = await act(deps, tenant, o.op, o.role, f.conversation_id);
          return send(o.ws, { type: 'result', action: f.type, ref: f.ref ?? null, ok: true, conversation: conversationView(conv) });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          return send(o.ws, {
            type: 'result',
            action: f.type,
            ref: f.ref ?? null,
            ok: false,
            status: err.status,
            code: err.code,
            message: err.message,
          });
        }
      }
      case 'message': {
        const m: MessageView = await operatorReply(deps, tenant, o.op, o.role, f.conversation_id, text(f.text));
        return send(o.ws, {
          type: 'ack',
          client_id: f.client_id ?? null,
          message_id: m.id,
          seq: m.seq,
          conversation_id: m.conversation_id,
        });
      }
      case 'sync': {
        const conv = await visibleConversation(deps, o.op, o.role, f.conversation_id);
        const s = operatorSeq(o, conv._id, f.last_seq);
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

  function onConnection(ws: WebSocket, req: http.IncomingMessage, url: URL, kind: 'visitor' | 'operator'): void {
    // Frames sent before authentication finishes are kept and handled once the socket is admitted.
    const early: RawData[] = [];
    const hold = (d: RawData) => early.length < 20 && early.push(d);
    ws.on('message', hold);
    let conn: Conn | null = null;
    ws.on('close', () => conn && leave(conn));
    ws.on('error', () => undefined);
    ws.on('pong', () => conn && (conn.lastActive = Date.now()));
    const open = kind === 'visitor' ? openVisitor(ws, req, url, early) : openOperator(ws, url, early);
    open
      .then((c) => {
        ws.off('message', hold);
        conn = c;
        if (c && ws.readyState !== ws.OPEN) leave(c);
      })
      .catch((err: unknown) => {
        logger.warn({ err: String(err) }, 'chat socket open failed');
        ws.close(1011, 'server error');
      });
  }

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    const kind = url.pathname === '/api/v1/ws/widget' ? 'visitor' : url.pathname === '/api/v1/ws/operator' ? 'operator' : null;
    if (!kind) return; // another module's socket path
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, url, kind));
  };
  server.on('upgrade', onUpgrade);

  // -------------------------------------------------------------------------------------------
  // Liveness: one sweep per process (no timer per socket): ping, close idle (4408) and expired (4401).
  // -------------------------------------------------------------------------------------------
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const c of conns) {
        if (now - c.lastActive > config.chatWsIdleMs) c.ws.close(CLOSE.idle, 'idle timeout');
        else if (c.kind === 'visitor' && c.claims.exp * 1000 <= now) c.ws.close(CLOSE.badToken, 'visitor token expired');
        else if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
      }
    },
    Math.max(100, Math.floor(config.chatWsIdleMs / 3)),
  );
  sweep.unref();

  return {
    counts: () => {
      let visitors = 0;
      let operators = 0;
      for (const c of conns) {
        if (c.kind === 'visitor') visitors++;
        else operators++;
      }
      return { visitors, operators };
    },
    close: async () => {
      clearInterval(sweep);
      server.off('upgrade', onUpgrade);
      for (const c of conns) c.ws.close(1001, 'server shutting down');
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
