/**
 * The chat WebSockets, on the API's own HTTP server (docs/contract.md §3.1, §3.3):
 *   /api/v1/ws/widget?token=<visitor_token>[&last_seq=n]   one visitor, its own conversation only (visitor-socket.ts)
 *   /api/v1/ws/operator?token=<operator_token>[&tenant_id=] one operator, its tenant and routing keys (operator-socket.ts)
 * or `?ticket=<one-time ticket>` in place of `token` (api/chat/socket-tickets.ts), which keeps tokens out of URLs.
 * Fan-out across API processes and per-socket ordering: hub.ts. Here: the upgrade, each socket's
 * frames handled one after the other (a client's messages keep their order), and one liveness sweep.
 *
 * Before any of it, upgrade-guard.ts: other paths get 404, per-IP and global caps, a handshake deadline.
 *
 * Close codes: 4401 bad or expired token, 4403 tenant/origin refused, 4408 idle (no pong, no frame) or
 * handshake too slow, 4429 rate limited. The token is never logged.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppDeps } from '../../context.js';
import { ApiError, asApiError, storeOutage } from '../../errors.js';
import { CLOSE, MAX_FRAME_BYTES, send } from './frames.js';
import { redeemTicket } from '../socket-tickets.js';
import { allowFrame } from './frame-budget.js';
import { ChatHub, type Conn } from './hub.js';
import { openOperator, operatorFrameIn } from './operator-socket.js';
import { clientIp } from '../../../platform/client-ip.js';
import { refuseUpgrade, socketCaps } from './upgrade-guard.js';
import { openVisitor, visitorFrameIn } from './visitor-socket.js';

export { CLOSE } from './frames.js';

export type ChatSockets = {
  close: () => Promise<void>;
  counts: () => { visitors: number; operators: number; sockets: number };
};

const PATHS: Record<string, 'visitor' | 'operator'> = { '/api/v1/ws/widget': 'visitor', '/api/v1/ws/operator': 'operator' };

export function attachChatSockets(server: http.Server, deps: AppDeps): ChatSockets {
  const { config, logger } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const hub = new ChatHub(deps);
  const caps = socketCaps(config, (req) => clientIp(req, config.trustProxyHops));

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
        // typing / read / ping over the socket's budget: dropped here, before any Redis work (frame-budget.ts).
        if (!allowFrame(c, (json as { type?: unknown } | null)?.type)) return;
        return c.kind === 'visitor' ? visitorFrameIn(deps, c, json) : operatorFrameIn(hub, deps, c, json);
      })
      .catch((err: unknown) => {
        const e = asApiError(err) ?? storeOutage(err);
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

  /**
   * `?ticket=` (api/chat/socket-tickets.ts): redeemed once; the token it stands for then takes the place
   * of `?token=`, so the socket modules run exactly the checks they run on a token. False: closed.
   */
  async function withTicket(ws: WebSocket, req: http.IncomingMessage, url: URL, kind: 'visitor' | 'operator'): Promise<boolean> {
    const ticket = url.searchParams.get('ticket');
    if (ticket === null) return true;
    const r = await redeemTicket(deps, ticket, kind, req.headers.origin);
    if (!r.ok) return (ws.close(r.code, r.reason), false);
    url.searchParams.set('token', r.token);
    if (kind === 'operator' && r.tenantId) url.searchParams.set('tenant_id', r.tenantId);
    return true;
  }

  function onConnection(ws: WebSocket, req: http.IncomingMessage, url: URL, kind: 'visitor' | 'operator'): void {
    // Frames sent before authentication finishes are kept and handled once the socket is admitted.
    const early: RawData[] = [];
    const hold = (d: RawData) => early.length < 20 && early.push(d);
    ws.on('message', hold);
    let conn: Conn | null = null;
    ws.on('close', () => conn && hub.leave(conn));
    ws.on('error', () => undefined);
    ws.on('pong', () => conn && (conn.lastActive = Date.now()));
    // The handshake deadline: authenticated and welcomed in time, or closed (and destroyed soon after).
    // A visitor's replay of missed messages comes after its welcome and is not bounded by it.
    const deadline = setTimeout(() => {
      ws.close(CLOSE.idle, 'handshake timeout');
      setTimeout(() => ws.terminate(), 1000).unref();
    }, config.chatWsHandshakeTimeoutMs);
    deadline.unref();
    ws.on('close', () => clearTimeout(deadline));
    const open = withTicket(ws, req, url, kind).then((ok): Promise<Conn | null> | null =>
      !ok
        ? null
        : kind === 'visitor'
          ? openVisitor(hub, deps, ws, req, url, () => clearTimeout(deadline))
          : openOperator(hub, deps, ws, url),
    );
    open
      .then((c) => {
        clearTimeout(deadline);
        ws.off('message', hold);
        conn = c;
        if (!c) return;
        if (ws.readyState !== ws.OPEN) return hub.leave(c);
        ws.on('message', (data) => onFrame(c, data));
        for (const d of early) onFrame(c, d);
      })
      .catch((err: unknown) => {
        logger.warn({ err: String(err) }, 'chat socket open failed');
        ws.close(1011, 'server error');
      });
  }

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (socket.destroyed) return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay.invalid');
    } catch {
      return refuseUpgrade(socket, new ApiError('BAD_REQUEST', 'The request target is not a valid path.'));
    }
    const kind = PATHS[url.pathname];
    // Node keeps an upgrade nobody answers open forever: every other path is answered here.
    if (!kind) return refuseUpgrade(socket, new ApiError('ROUTE_NOT_FOUND', 'No WebSocket at this path.'));
    if (!caps.admit(req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, url, kind));
  };
  server.on('upgrade', onUpgrade);

  // Liveness: one sweep per process (no timer per socket): ping, close idle (4408) and expired (4401).
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const c of hub.conns) {
        if (now - c.lastActive > config.chatWsIdleMs) c.ws.close(CLOSE.idle, 'idle timeout');
        else if (c.kind === 'visitor' && c.claims.exp * 1000 <= now) c.ws.close(CLOSE.badToken, 'visitor token expired');
        else if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
      }
    },
    Math.max(100, Math.floor(config.chatWsIdleMs / 3)),
  );
  sweep.unref();

  return {
    counts: () => ({ ...hub.counts(), sockets: caps.counts().total }),
    close: async () => {
      clearInterval(sweep);
      server.off('upgrade', onUpgrade);
      await hub.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
