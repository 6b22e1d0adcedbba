/**
 * A tenant's webhook receiver, as a real HTTP server on a real socket: it records every request
 * (headers and exact body bytes) and answers from a script — a status, a Retry-After, a delay, or
 * a hang that never answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordSecret } from '../support/log-audit.js';

export type Answer = { status?: number; retryAfter?: string; delayMs?: number; hang?: boolean; body?: string };
export type Received = { path: string; headers: http.IncomingHttpHeaders; body: string; at: number; answeredStatus?: number };

export class Receiver {
  readonly received: Received[] = [];
  private readonly server: http.Server;
  private script: Answer[] = [];
  private fallback: Answer = { status: 200 };
  private chooser: (() => Answer) | undefined;
  private readonly hanging = new Set<http.ServerResponse>();
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(rec);
        recordSecret(req.headers['x-bloonio-signature'], 'callback signature');
        const a = this.script.shift() ?? this.chooser?.() ?? this.fallback;
        if (!a.hang) rec.answeredStatus = a.status ?? 200;
        if (a.hang) {
          this.hanging.add(res);
          return;
        }
        const send = () => {
          res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...(a.retryAfter ? { 'retry-after': a.retryAfter } : {}) });
          res.end(a.body ?? '{"received":true}');
        };
        if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answers for the next requests, in order; then `fallback` for every later one. */
  answer(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  /** Decide each answer as the request arrives (e.g. a random 5xx), after any scripted ones. */
  answerWith(choose: () => Answer): this {
    this.chooser = choose;
    return this;
  }

  always(a: Answer): this {
    this.fallback = a;
    return this;
  }

  eventIds(): string[] {
    return this.received.map((r) => String(r.headers['x-bloonio-event-id']));
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
