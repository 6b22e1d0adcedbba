/** Real `ws` clients for the chat tests and the benchmark: collect frames, wait for one, see the close code. */
import WebSocket from 'ws';
import { signed, type TenantCreds } from './client.js';

export type Frame = Record<string, any>;

export type ChatClient = {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the first frame (already received or coming) that matches. */
  next: (match: (f: Frame) => boolean, ms?: number) => Promise<Frame>;
  send: (f: Frame) => void;
  closed: Promise<{ code: number; reason: string }>;
  close: () => Promise<void>;
};

export function wsUrl(httpBase: string, path: string, params: Record<string, string | number>): string {
  const u = new URL(path, httpBase.replace(/^http/, 'ws'));
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

export function connect(url: string, opts: { origin?: string; autoPong?: boolean } = {}): ChatClient {
  const ws = new WebSocket(url, { ...(opts.origin ? { origin: opts.origin } : {}), autoPong: opts.autoPong ?? true });
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Frame;
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.match(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
  );
  const opened = new Promise<void>((r) => (ws.readyState === ws.OPEN ? r() : ws.once('open', () => r())));
  return {
    ws,
    frames,
    next: (match, ms = 5000) => {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { match, resolve, from: frames.length };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`));
          }
        }, ms);
      });
    },
    send: (f) => void opened.then(() => ws.send(JSON.stringify(f))),
    closed,
    close: async () => {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      await closed;
    },
  };
}

/** A visitor session through the public route, as a browser on `origin` would open it. */
export async function createSession(baseUrl: string, creds: TenantCreds, origin: string, extra: Record<string, unknown> = {}) {
  const r = await fetch(`${baseUrl}/api/v1/create/visitor-session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin },
    body: JSON.stringify({ tenant_id: creds.tenantId, widget_public_key: creds.widgetKey, origin, ...extra }),
  });
  const body = (await r.json()) as any;
  return { status: r.status, body, token: body?.data?.visitor_token as string, sessionId: body?.data?.session_id as string };
}

export async function provisionOperator(baseUrl: string, creds: TenantCreds, email: string, routingKeys: string[] | null = null) {
  const p = await signed(baseUrl, creds, 'POST', '/relay/provision/operator', {
    email,
    display_name: email.split('@')[0],
    routing_keys: routingKeys,
  });
  if (p.status !== 201 && p.status !== 200) throw new Error(`provision operator: ${p.status} ${JSON.stringify(p.body)}`);
  const t = await signed(baseUrl, creds, 'POST', '/relay/mint/operator-token', { operator_id: p.body.data.operator_id });
  if (t.status !== 201) throw new Error(`mint operator token: ${t.status} ${JSON.stringify(t.body)}`);
  return { id: p.body.data.operator_id as string, token: t.body.data.operator_token as string };
}

export async function asOperator(baseUrl: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const r = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as any };
}

/** The sockets one test file opens, closed together in its after(); widget sockets carry the page's Origin. */
export function socketPool(origin: string) {
  const clients: ChatClient[] = [];
  const open = (url: string, o: Parameters<typeof connect>[1] = {}) => {
    const c = connect(url, o);
    clients.push(c);
    return c;
  };
  return {
    open,
    visitorWs: (base: string, token: string, extra: Record<string, string | number> = {}, from = origin) =>
      open(wsUrl(base, '/api/v1/ws/widget', { token, ...extra }), { origin: from }),
    operatorWs: (base: string, token: string, extra: Record<string, string> = {}) =>
      open(wsUrl(base, '/api/v1/ws/operator', { token, ...extra })),
    closeAll: () => Promise.all(clients.map((c) => c.close().catch(() => undefined))),
  };
}

/**
 * A human-lane conversation on `routingKey`, assigned: the visitor (on `visitorApi`) writes 'hello',
 * a new operator (on `operatorApi`) takes it over its socket; on return both have seen message 1
 * and the visitor the agent_joined frame.
 */
export async function assignedConversation<C extends ChatClient>(p: {
  relayUrl: string;
  visitorApi: string;
  operatorApi: string;
  creds: TenantCreds;
  origin: string;
  routingKey: string;
  email: string;
  visitorWs: (base: string, token: string) => C;
  operatorWs: (base: string, token: string) => C;
}) {
  const s = await createSession(p.visitorApi, p.creds, p.origin, { mode: 'human', routing_key: p.routingKey });
  if (s.status !== 201) throw new Error(`create visitor session: ${s.status} ${JSON.stringify(s.body)}`);
  const op = await provisionOperator(p.relayUrl, p.creds, p.email, [p.routingKey]);
  const operator = p.operatorWs(p.operatorApi, op.token);
  await operator.next((f) => f.type === 'welcome');
  const visitor = p.visitorWs(p.visitorApi, s.token);
  await visitor.next((f) => f.type === 'welcome');
  visitor.send({ type: 'message', text: 'hello', client_id: 'hello' });
  const ack = await visitor.next((f) => f.type === 'ack' && f.client_id === 'hello');
  const cid = ack.conversation_id as string;
  const hello = (f: Frame) => f.type === 'message' && f.message?.text === 'hello';
  await Promise.all([operator.next(hello), visitor.next(hello)]);
  operator.send({ type: 'take', conversation_id: cid, ref: 'take' });
  const took = await operator.next((f) => f.type === 'result' && f.ref === 'take');
  if (!took.ok) throw new Error(`take: ${JSON.stringify(took)}`);
  await visitor.next((f) => f.type === 'agent_joined');
  return { s, op, operator, visitor, cid, firstSeq: ack.seq as number };
}
