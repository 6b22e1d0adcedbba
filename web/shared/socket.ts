/**
 * A relay WebSocket that stays up: reconnects with exponential backoff and full jitter, detects a
 * dead link with application pings (a browser never sees the server's protocol pings fail), and
 * reconnects at once when the browser comes back online. Close codes (api/chat/ws/sockets.ts):
 * 4401 bad/expired token → the owner refreshes it and we retry at once; 4403 refused → stop;
 * 4429 rate limited → retry after a long pause; anything else → retry with backoff.
 */
export type Frame = { type: string } & Record<string, unknown>;
export type LinkState = 'connecting' | 'open' | 'offline' | 'stopped';

export type LinkOptions = {
  /** The URL to connect to (called before each attempt, so it carries a fresh token and last_seq). */
  url: () => Promise<string | null>;
  onFrame: (f: Frame) => void;
  onState: (s: LinkState, closeCode?: number) => void;
  /** Called on 4401; resolve true when a new token is ready (retry now), false to stop. */
  onAuthExpired: () => Promise<boolean>;
  /** Called on 4403; the link stops. */
  onRefused: (reason: string) => void;
};

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;

export class Link {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongDue = 0;
  private stopped = false;
  state: LinkState = 'offline';
  private readonly online = () => this.retryNow();

  constructor(private readonly o: LinkOptions) {
    addEventListener('online', this.online);
  }

  start(): void {
    this.stopped = false;
    if (!this.ws && !this.timer) void this.connect();
  }

  send(f: Frame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(f));
    return true;
  }

  /** The link was just confirmed (a welcome frame): the next failure starts the backoff from the beginning. */
  confirmed(): void {
    this.attempts = 0;
  }

  /** Drops the current socket (e.g. a new identity) and connects again at once. */
  restart(): void {
    this.drop();
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.drop();
    removeEventListener('online', this.online);
    this.setState('stopped');
  }

  private drop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  private retryNow(): void {
    if (this.stopped || this.ws) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.connect();
  }

  private setState(s: LinkState, code?: number): void {
    this.state = s;
    this.o.onState(s, code);
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    this.setState('connecting');
    const url = await this.o.url().catch(() => null);
    if (this.stopped) return;
    if (!url) return this.schedule();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return this.schedule();
    }
    this.ws = ws;
    ws.onopen = () => {
      this.setState('open');
      this.startPing();
    };
    ws.onmessage = (e) => {
      this.pongDue = 0;
      let f: Frame;
      try {
        f = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      if (f.type !== 'pong') this.o.onFrame(f);
    };
    ws.onclose = (e) => void this.closed(ws, e.code, e.reason);
  }

  private async closed(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (this.ws !== ws) return;
    this.ws = null;
    this.stopPing();
    if (this.stopped) return;
    this.setState('offline', code);
    if (code === 4403) {
      this.stopped = true;
      return this.o.onRefused(reason);
    }
    if (code === 4401) {
      if (await this.o.onAuthExpired().catch(() => false)) return void this.connect();
      this.stopped = true;
      return;
    }
    this.schedule(code === 4429 ? 30_000 : 0);
  }

  private schedule(minMs = 0): void {
    if (this.stopped) return;
    const cap = Math.min(15_000, 500 * 2 ** this.attempts++);
    const delay = Math.max(minMs, cap / 2 + Math.random() * (cap / 2));
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (ws && this.pongDue && Date.now() > this.pongDue) {
        // No answer to the last ping: the link is dead even if the browser has not noticed yet.
        ws.onclose = null;
        ws.close();
        void this.closed(ws, 1006, 'no pong');
        return;
      }
      if (this.send({ type: 'ping' }) && !this.pongDue) this.pongDue = Date.now() + PONG_WITHIN_MS;
    }, PING_EVERY_MS);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.pongDue = 0;
  }
}

export function wsUrl(base: string, path: string, params: Record<string, string | number>): string {
  const u = new URL(path, base.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}
