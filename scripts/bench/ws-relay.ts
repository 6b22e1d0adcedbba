/**
 * The chat benchmark's baseline: a bare `ws` server doing the least a chat relay can do — a visitor's
 * message forwarded to its operator's socket — with no auth, storage, sequencing or Redis. Prints
 * `{"listening":PORT}`. Operators connect to `/?op=<j>`, visitors to `/?to=<j>`; a visitor's frame
 * `{"type":"message","text":…}` reaches operator j as `{"type":"message","message":{"text":…}}`.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const operators = new Map<string, WebSocket>();
const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const op = q.get('op');
  if (op !== null) {
    operators.set(op, ws);
    ws.send(JSON.stringify({ type: 'welcome' }));
    return;
  }
  const to = q.get('to') ?? '';
  ws.send(JSON.stringify({ type: 'welcome' }));
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as { text?: string };
    operators.get(to)?.send(JSON.stringify({ type: 'message', message: { sender_type: 'visitor', text: f.text } }));
  });
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`),
);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
