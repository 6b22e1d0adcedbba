/**
 * The client's IP address, the one key of every per-IP limit (HTTP routes through Koa's `ctx.ip`,
 * which api/app.ts sets from here, and the chat sockets, which call this directly).
 *
 * Behind N trusted proxies (TRUST_PROXY_HOPS), each proxy appends the address it received the
 * request from to X-Forwarded-For, so the last N entries were written by our proxies and the Nth
 * from the right is the address the outermost proxy saw: the client. Everything left of it is what
 * the client itself sent and proves nothing — taking the leftmost entry (Koa's `proxy: true`) let
 * any caller choose its own per-IP bucket. With no trusted proxy the socket's peer is the client.
 */
import type http from 'node:http';

/** What one address may look like in a rate-limit key: a trusted proxy writes an IP, nothing longer. */
const MAX_IP_CHARS = 64;

function normalise(ip: string): string {
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: one client, one bucket.
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function clientIp(req: http.IncomingMessage, proxyHops: number): string {
  const peer = normalise(req.socket?.remoteAddress ?? '');
  if (proxyHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  // Node joins repeated X-Forwarded-For headers with ", ", so one list holds every hop.
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!hops.length) return peer;
  // Fewer entries than proxies: the chain is shorter than configured; its leftmost is the best we have.
  const ip = hops[Math.max(0, hops.length - proxyHops)] ?? '';
  return normalise(ip.slice(0, MAX_IP_CHARS));
}
