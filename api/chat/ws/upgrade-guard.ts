/**
 * What happens to an `Upgrade` request before any chat work: every one is answered, and none is held
 * past a deadline, so unauthenticated sockets cannot pile up until the process runs out of file
 * descriptors (issue 20, "unauthenticated socket exhaustion").
 *   - a path that is not a chat socket: 404 in the error envelope, then the socket is destroyed
 *     (Node hands an upgrade to its `upgrade` listeners only, and keeps it open while none answers);
 *   - too many sockets (pending or open) from one client IP on this process: 429, Retry-After;
 *     too many in all: 503 SERVER_BUSY, Retry-After;
 *   - an admitted socket that is not authenticated and welcomed within CHAT_WS_HANDSHAKE_TIMEOUT_MS
 *     is closed (4408), and destroyed a second later whatever the peer does. (The request's own
 *     headers are bounded by the HTTP server's header timeout, the same setting: api/http-server.ts.)
 * A malformed upgrade on a chat path (not GET, no Sec-WebSocket-Key, …) gets ws's own 400.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../../../platform/config.js';
import { ApiError, errorEnvelope } from '../../errors.js';

/** A refused socket gets this long to take its answer before it is destroyed anyway. */
const REFUSAL_FLUSH_MS = 1000;

/** Answers an upgrade request with an HTTP error envelope and destroys the socket once it is written. */
export function refuseUpgrade(socket: Duplex, err: ApiError): void {
  socket.on('error', () => socket.destroy());
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(errorEnvelope(err, `req_${randomUUID()}`));
  const head = [
    `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(err.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  // Upgrade sockets are half-open capable: end() alone would wait for the peer's FIN forever.
  const timer = setTimeout(() => socket.destroy(), REFUSAL_FLUSH_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

export type SocketCaps = {
  /** Counts the socket until it closes, or refuses it (answered and destroyed): false. */
  admit: (req: http.IncomingMessage, socket: Duplex) => boolean;
  counts: () => { total: number; ips: number };
};

/** Per-IP and global caps on this process's chat sockets, pending or open. */
export function socketCaps(config: Config, ipOf: (req: http.IncomingMessage) => string): SocketCaps {
  let total = 0;
  const perIp = new Map<string, number>();
  return {
    counts: () => ({ total, ips: perIp.size }),
    admit: (req, socket) => {
      if (total >= config.chatWsMaxTotal) {
        refuseUpgrade(
          socket,
          new ApiError('SERVER_BUSY', 'The relay holds as many sockets as it can; try again shortly.', [], { 'Retry-After': '5' }),
        );
        return false;
      }
      const ip = ipOf(req);
      const mine = perIp.get(ip) ?? 0;
      if (mine >= config.chatWsMaxPerIp) {
        refuseUpgrade(socket, new ApiError('RATE_LIMITED', 'Too many sockets from this address.', [], { 'Retry-After': '10' }));
        return false;
      }
      total++;
      perIp.set(ip, mine + 1);
      socket.once('close', () => {
        total--;
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left > 0) perIp.set(ip, left);
        else perIp.delete(ip);
      });
      return true;
    },
  };
}
