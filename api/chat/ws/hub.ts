/**
 * The sockets one API process holds, grouped by tenant, and the fan-out from the bus to them.
 *
 * Each process subscribes to the Redis channels of the tenants it holds sockets for (models/chat/bus.ts)
 * and relays each event to the sockets allowed to see it: a visitor sees its own conversation only;
 * an operator sees its tenant's conversations within its routing keys (admins: all), and message-level
 * traffic (messages, typing, reads) only while unassigned or assigned to it. Messages go through a
 * per-socket Sequencer, so a socket sees each sequence number once and in order, reading gaps from
 * MongoDB.
 */
import type { WebSocket } from 'ws';
import { chatChannel, type BusEvent } from '../../../models/chat/bus.js';
import { routingAllows } from '../../../models/chat/conversation.js';
import { readAfterSeq } from '../../../models/chat/recent-messages.js';
import type { AccessChange, OperatorRecord } from '../../../models/chat/operator-record.js';
import type { VisitorSessionDoc } from '../../../models/chat/visitor-session.js';
import { redisKey } from '../../../platform/keys.js';
import { subscriberRedis } from '../../../platform/redis.js';
import type { TokenClaims } from '../../../platform/tokens.js';
import type { AppDeps } from '../../context.js';
import { CLOSE, send } from './frames.js';
import { allowConnect } from './limits.js';
import { Sequencer } from './sequencer.js';

type Base = { ws: WebSocket; tenantId: string; lastActive: number; queue: Promise<void> };
export type VisitorConn = Base & {
  kind: 'visitor';
  claims: TokenClaims<'visitor'>;
  session: VisitorSessionDoc;
  conv: string | null;
  seq: Sequencer | null;
};
/** `ver`: the token's operator version; `expiry`: closes the socket when the token ends (operator-socket.ts). */
export type OperatorConn = Base & {
  kind: 'operator';
  op: OperatorRecord;
  role: string;
  seqs: Map<string, Sequencer>;
  ver: number;
  expiry?: NodeJS.Timeout;
};
export type Conn = VisitorConn | OperatorConn;
type TenantRoom = { visitors: Map<string, Set<VisitorConn>>; operators: Set<OperatorConn>; count: number };

/** An operator socket follows at most this many conversations' sequences (the oldest is dropped). */
const MAX_FOLLOWED = 2000;

export class ChatHub {
  readonly conns = new Set<Conn>();
  private readonly rooms = new Map<string, TenantRoom>();
  // A subscriber waits for Redis to come back (and resubscribes) rather than failing fast.
  private readonly sub;

  constructor(private readonly deps: AppDeps) {
    this.sub = subscriberRedis(deps.config.redisUrl);
    this.sub.on('error', (err) => deps.logger.warn({ err: String(err) }, 'chat subscriber redis error'));
    // Every process hears every operator access change (deprovisioned, role or routing keys changed).
    const access = redisKey.chatOperatorAccessChannel(deps.config.queuePrefix);
    this.sub.subscribe(access).catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'operator access subscribe failed'));
    // A reconnect resubscribes (ioredis), but what was published meanwhile is gone, and a conversation's
    // last messages leave no gap to show it. Once the resubscription is in (a PING answered after it),
    // every socket reads its conversations from the store.
    let connectedBefore = false;
    this.sub.on('ready', () => {
      if (!connectedBefore) return void (connectedBefore = true);
      this.sub.ping().then(
        () => this.readAllFromStore(),
        () => undefined,
      );
    });
    this.sub.on('message', (channel: string, payload: string) => {
      try {
        if (channel === access) this.accessChanged(JSON.parse(payload) as AccessChange);
        else this.dispatch(JSON.parse(payload) as BusEvent);
      } catch (err) {
        deps.logger.error({ err: String(err) }, 'chat dispatch failed');
      }
    });
  }

  /** Admission common to both kinds: per-process and per-tenant connection limits (4429 otherwise). */
  async admit(ws: WebSocket, tenantId: string): Promise<boolean> {
    const r = this.rooms.get(tenantId);
    if ((r?.count ?? 0) >= this.deps.config.chatConnectionsPerTenant || !(await allowConnect(this.deps, tenantId))) {
      ws.close(CLOSE.rateLimited, 'too many connections for this tenant');
      return false;
    }
    this.room(tenantId).count++;
    return true;
  }

  join(c: Conn): void {
    const r = this.room(c.tenantId);
    if (c.kind === 'visitor') {
      let set = r.visitors.get(c.session._id);
      if (!set) r.visitors.set(c.session._id, (set = new Set()));
      set.add(c);
    } else r.operators.add(c);
    this.conns.add(c);
  }

  leave(c: Conn): void {
    if (!this.conns.delete(c)) return;
    const r = this.rooms.get(c.tenantId);
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
      this.rooms.delete(c.tenantId);
      this.sub.unsubscribe(chatChannel(this.deps.config.queuePrefix, c.tenantId)).catch(() => undefined);
    }
  }

  /** The messages after a number and the numbers in flight (recent-messages.ts), read when a socket connects, resyncs or sees a gap. */
  fetchAfter(tenantId: string, conversationId: string) {
    return (after: number) => readAfterSeq(this.deps, tenantId, conversationId, after);
  }

  operatorSeq(o: OperatorConn, conversationId: string, startAfter: number, midway = false): Sequencer {
    let s = o.seqs.get(conversationId);
    if (!s) {
      if (o.seqs.size > MAX_FOLLOWED) {
        const [oldest, seq] = o.seqs.entries().next().value as [string, Sequencer];
        seq.stop();
        o.seqs.delete(oldest);
      }
      s = new Sequencer(
        startAfter,
        (m) => send(o.ws, { type: 'message', conversation_id: conversationId, message: m }),
        this.fetchAfter(o.tenantId, conversationId),
        midway,
      );
      o.seqs.set(conversationId, s);
    }
    return s;
  }

  visitorSeq(v: VisitorConn, conversationId: string, startAfter = 0): Sequencer {
    if (!v.seq || v.conv !== conversationId) {
      v.seq?.stop();
      v.conv = conversationId;
      v.seq = new Sequencer(startAfter, (m) => send(v.ws, { type: 'message', message: m }), this.fetchAfter(v.tenantId, conversationId));
    }
    return v.seq;
  }

  /** Every socket's conversations, read again from the store (after the bus may have dropped publications). */
  private readAllFromStore(): void {
    for (const c of this.conns) {
      if (c.kind === 'visitor') void c.seq?.fill();
      else for (const s of c.seqs.values()) void s.fill();
    }
  }

  counts(): { visitors: number; operators: number } {
    let visitors = 0;
    for (const c of this.conns) if (c.kind === 'visitor') visitors++;
    return { visitors, operators: this.conns.size - visitors };
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.close(1001, 'server shutting down');
    await this.sub.quit().catch(() => this.sub.disconnect());
  }

  private room(tenantId: string): TenantRoom {
    let r = this.rooms.get(tenantId);
    if (!r) {
      r = { visitors: new Map(), operators: new Set(), count: 0 };
      this.rooms.set(tenantId, r);
      this.sub
        .subscribe(chatChannel(this.deps.config.queuePrefix, tenantId))
        .catch((err: unknown) => this.deps.logger.warn({ err: String(err) }, 'chat subscribe failed'));
    }
    return r;
  }

  /** An operator's sockets close (4401) unless they hold the version now current and it is active. */
  private accessChanged(ch: AccessChange): void {
    for (const o of this.rooms.get(ch.tenant_id)?.operators ?? [])
      if (o.op._id === ch.operator_id && (ch.status !== 'active' || ch.v !== o.ver)) o.ws.close(CLOSE.badToken, 'operator access changed');
  }

  private dispatch(ev: BusEvent): void {
    const r = this.rooms.get(ev.tenant_id);
    if (!r) return;
    const visitors = r.visitors.get(ev.session_id) ?? new Set<VisitorConn>();
    const sees = (o: OperatorConn) => o.role === 'admin' || routingAllows(o.op.routing_keys, ev.routing_key);
    const follows = (o: OperatorConn) => sees(o) && (ev.assignee === null || ev.assignee === o.op._id);
    switch (ev.kind) {
      case 'message':
        for (const v of visitors) this.visitorSeq(v, ev.conversation_id).push(ev.message);
        for (const o of r.operators) if (follows(o)) this.operatorSeq(o, ev.conversation_id, ev.message.seq - 1, true).push(ev.message);
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
        for (const o of r.operators) if (sees(o)) send(o.ws, frame);
        return;
      }
      case 'typing':
      case 'read': {
        const data = ev.kind === 'typing' ? { on: ev.on } : { seq: ev.seq };
        if (ev.from === 'visitor') {
          for (const o of r.operators)
            if (follows(o)) send(o.ws, { type: ev.kind, from: 'visitor', conversation_id: ev.conversation_id, ...data });
        } else {
          for (const v of visitors) send(v.ws, { type: ev.kind, from: 'operator', ...data });
        }
        return;
      }
    }
  }
}
