/**
 * The test apps: a Koa app and an Express app, each a tenant's backend as the README shows it —
 * BloonioAuth (the seed's transfer route behind sudoRequired, a quorum route, the callback path,
 * submit-response, handled auth callbacks) and BloonioChat (eight of the nine chat callbacks; agent-
 * released left unhandled on purpose) — on a real port, with the SDK's state in the real Redis.
 * Each has its own tenant whose callback_url_base is the app, so the relay's real signed callbacks
 * reach it. What the tests read (what ran, the events handled) is kept on the returned object.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import express, { type Request } from 'express';
import Koa from 'koa';
import {
  ActionType,
  BloonioAuth,
  BloonioChat,
  CHAT_EVENTS,
  ChatRelaySettings,
  DataType,
  RelaySettings,
  SudoActionType,
  type CallbackEvent,
  type PendingOp,
} from '../../src/index.js';
import type { Relay, Tenant } from './relay.js';

declare module 'koa' {
  interface Request {
    body?: any;
    rawBody?: string;
  }
}

export interface TestApp {
  kind: 'koa' | 'express';
  url: string;
  tenant: Tenant;
  bloonio: BloonioAuth;
  chat: BloonioChat;
  statePrefix: string;
  executed: Record<string, unknown>[];
  replayed: Record<string, unknown>[];
  events: CallbackEvent[];
  /** The raw callback requests the Koa app received (path, headers, body, answer status). */
  raw: { path: string; headers: Record<string, string>; body: string; status: number }[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  postRaw(path: string, raw: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const CHAT_HANDLED = CHAT_EVENTS.filter((e) => e !== 'agent-released');
const AUTH_HANDLED = ['platform.test', 'pairing.device_added', 'auth_challenge.approved', 'auth_challenge.denied'] as const;

async function listen(): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function sdkFor(relay: Relay, tenant: Tenant, kind: string, events: CallbackEvent[]) {
  const statePrefix = `${relay.runId}_${kind}`;
  // The settings as a deployment gives them: BLOONIO_RELAY_* / BLOONIO_CHAT_* variables.
  const env = {
    BLOONIO_RELAY_BASE_URL: relay.url,
    BLOONIO_RELAY_TENANT_ID: tenant.tenantId,
    BLOONIO_RELAY_TENANT_SECRET: tenant.tenantSecret,
    BLOONIO_RELAY_STATE_BACKEND: 'redis',
    BLOONIO_RELAY_STATE_BACKEND_URL: relay.redisUrl,
    BLOONIO_RELAY_STATE_PREFIX: statePrefix,
    BLOONIO_CHAT_BASE_URL: relay.url,
    BLOONIO_CHAT_TENANT_ID: tenant.tenantId,
    BLOONIO_CHAT_TENANT_SECRET: tenant.tenantSecret,
  };
  const record = (ev: CallbackEvent) => void events.push(ev);
  // The app's own session and user (a real app: its session cookie and sign-in), the same for Koa's ctx and Express's req.
  const header = (name: string) => (req: { headers: Record<string, unknown> }) => {
    const v = req.headers[name];
    return typeof v === 'string' && v ? v : null;
  };
  const bloonio = new BloonioAuth<{ headers: Record<string, unknown> }>({
    settings: new RelaySettings({ env }),
    sessionKey: header('x-test-session'),
    currentUserSocketHash: header('x-test-user'),
    handlers: Object.fromEntries(AUTH_HANDLED.map((t) => [t, record])),
    logger: { warn: () => undefined, error: (m, e) => console.error(`[${kind} app] ${m}`, e ?? '') },
  });
  const chat = new BloonioChat({
    settings: new ChatRelaySettings({ env }),
    handlers: Object.fromEntries(CHAT_HANDLED.map((e) => [e, record])),
    logger: { warn: () => undefined },
  });
  return { bloonio: bloonio as unknown as BloonioAuth, chat, statePrefix };
}

function helpers(url: string) {
  return {
    async post(path: string, body: unknown, headers: Record<string, string> = {}) {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const text = await r.text();
      let parsed: unknown = text || null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (e.g. Koa's plain-text error answers): the test reads the status
      }
      return { status: r.status, body: parsed as any, headers: r.headers };
    },
    async postRaw(path: string, raw: string | Buffer, headers: Record<string, string>) {
      const r = await fetch(`${url}${path}`, { method: 'POST', headers, body: raw });
      const text = await r.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the test looks at the status
      }
      return { status: r.status, body };
    },
  };
}

const quorumOptions = (projectId: string, groupId: string, user: string) => ({
  title: 'Delete the project',
  actionType: ActionType.DELETION,
  fields: [{ key: 'project', title: 'Project', value: projectId, dataType: DataType.ENTITY_REFERENCE }],
  relayGroupLinkedIdList: [groupId],
  requestedBy: { user },
});

export async function startKoaApp(relay: Relay): Promise<TestApp> {
  const { server, url } = await listen();
  const tenant = await relay.provision('ts-koa', { callback_url_base: url, bot_webhook_url: `${url}/bot`, rate_limit_per_min: 10_000 });
  const events: CallbackEvent[] = [];
  const executed: Record<string, unknown>[] = [];
  const replayed: Record<string, unknown>[] = [];
  const raw: TestApp['raw'] = [];
  const { bloonio, chat, statePrefix } = sdkFor(relay, tenant, 'koa', events);

  // ----- the README's Koa example -----
  const app = new Koa();
  const router = new Router();
  router.post(
    '/transfer/execute',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.LOCAL_AUTH,
      userSocketHash: (ctx: Koa.Context) => ctx.state.user?.socketHash,
      title: 'Confirm the transfer',
      fields: (ctx: Koa.Context) => [
        { key: 'amount', title: 'Amount', value: String(ctx.request.body.amount), dataType: DataType.CURRENCY_USD },
        { key: 'to', title: 'Beneficiary', value: ctx.request.body.recipient, dataType: DataType.PARTY_NAME },
      ],
    }),
    async (ctx) => {
      executed.push({ user: ctx.state.user.socketHash, ...ctx.request.body });
      ctx.body = { executed: true, count: executed.length };
    },
  );
  // ----- the rest of the test app -----
  router.post(
    '/transfer/quick',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      userSocketHash: (ctx: Koa.Context) => ctx.state.user?.socketHash,
      title: 'Confirm the transfer',
      fields: (ctx: Koa.Context) => [
        { key: 'amount', title: 'Amount', value: String(ctx.request.body.amount), dataType: DataType.CURRENCY_USD },
      ],
      ttlSeconds: 10,
    }),
    async (ctx) => {
      executed.push({ user: ctx.state.user.socketHash, quick: true, ...ctx.request.body });
      ctx.body = { executed: true };
    },
  );
  router.post(
    '/transfer/totp',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.TOTP,
      userSocketHash: (ctx: Koa.Context) => ctx.state.user?.socketHash,
      title: 'Enter the code shown on your device',
    }),
    async (ctx) => {
      executed.push({ user: ctx.state.user.socketHash, totp: true });
      ctx.body = { executed: true };
    },
  );
  router.post(
    '/transfer/golden',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.GOLDEN_NUMBER,
      userSocketHash: (ctx: Koa.Context) => ctx.state.user?.socketHash,
      title: 'Pick the number shown on your screen',
    }),
    async (ctx) => {
      executed.push({ user: ctx.state.user.socketHash, golden: true });
      ctx.body = { executed: true };
    },
  );
  bloonio.onApproved<{ project_id: string }>('delete_project', async (op: PendingOp<{ project_id: string }>) => {
    replayed.push({ opId: op.opId, ...op.payload, approvals: op.approvals.length });
    return { deleted: op.payload.project_id };
  });
  router.post('/projects/delete', async (ctx) => {
    const { project_id, group_id } = ctx.request.body;
    ctx.status = 202;
    ctx.body = await bloonio.requestQuorum(
      'delete_project',
      { project_id },
      quorumOptions(project_id, group_id, ctx.state.user.socketHash),
    );
  });
  router.post('/bot', (ctx) => void (ctx.body = {}));

  app.use(async (ctx, next) => {
    // The app's own authentication: a header naming the user (a real app: its session or JWT).
    const user = ctx.get('X-Test-User');
    ctx.state.user = user ? { socketHash: user } : null;
    // Keeps the exact bytes of every callback (so a test can replay or tamper with one); bloonio
    // then verifies them from ctx.request.rawBody, as after @koa/bodyparser.
    if (ctx.method === 'POST' && /^\/(api\/v1\/chat-callbacks|relay-callbacks|api\/sudo-callback)/.test(ctx.path)) {
      const chunks: Buffer[] = [];
      for await (const c of ctx.req) chunks.push(c as Buffer);
      ctx.request.rawBody = Buffer.concat(chunks).toString('utf8');
      await next();
      raw.push({ path: ctx.path, headers: ctx.headers as Record<string, string>, body: ctx.request.rawBody, status: ctx.status });
      return;
    }
    await next();
  });
  app.use(bloonio.koa());
  app.use(chat.koa());
  app.use(router.routes());
  app.on('error', () => undefined); // errors are answered 500 by Koa; the tests look at answers
  server.on('request', app.callback());

  return {
    kind: 'koa',
    url,
    tenant,
    bloonio,
    chat,
    statePrefix,
    executed,
    replayed,
    events,
    raw,
    ...helpers(url),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await bloonio.close();
    },
  };
}

type AppRequest = Request & { user?: { socketHash: string } | null };

export async function startExpressApp(relay: Relay): Promise<TestApp> {
  const { server, url } = await listen();
  const tenant = await relay.provision('ts-express', { callback_url_base: url, bot_webhook_url: `${url}/bot`, rate_limit_per_min: 10_000 });
  const events: CallbackEvent[] = [];
  const executed: Record<string, unknown>[] = [];
  const replayed: Record<string, unknown>[] = [];
  const { bloonio, chat, statePrefix } = sdkFor(relay, tenant, 'express', events);

  const app = express();
  app.use((req: AppRequest, _res, next) => {
    const user = req.get('X-Test-User');
    req.user = user ? { socketHash: user } : null;
    next();
  });
  // ----- the README's Express example -----
  app.use(bloonio.express()); // before any body parser: callbacks are verified over their raw bytes
  app.use(chat.express());
  app.use(express.json()); // the app's own parser finds the JSON bodies already parsed, and leaves them
  app.post(
    '/transfer/execute',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.LOCAL_AUTH,
      userSocketHash: (req: AppRequest) => req.user?.socketHash,
      title: 'Confirm the transfer',
      fields: (req: AppRequest) => [
        { key: 'amount', title: 'Amount', value: String(req.body.amount), dataType: DataType.CURRENCY_USD },
        { key: 'to', title: 'Beneficiary', value: req.body.recipient, dataType: DataType.PARTY_NAME },
      ],
    }),
    (req: AppRequest, res) => {
      executed.push({ user: req.user?.socketHash, ...req.body });
      res.json({ executed: true, count: executed.length });
    },
  );
  // ----- the rest of the test app -----
  app.post(
    '/transfer/quick',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      userSocketHash: (req: AppRequest) => req.user?.socketHash,
      title: 'Confirm the transfer',
      fields: (req: AppRequest) => [{ key: 'amount', title: 'Amount', value: String(req.body.amount), dataType: DataType.CURRENCY_USD }],
      ttlSeconds: 10,
    }),
    (req: AppRequest, res) => {
      executed.push({ user: req.user?.socketHash, quick: true, ...req.body });
      res.json({ executed: true });
    },
  );
  app.post(
    '/transfer/totp',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.TOTP,
      userSocketHash: (req: AppRequest) => req.user?.socketHash,
      title: 'Enter the code shown on your device',
    }),
    (req: AppRequest, res) => {
      executed.push({ user: req.user?.socketHash, totp: true });
      res.json({ executed: true });
    },
  );
  app.post(
    '/transfer/golden',
    bloonio.sudoRequired({
      expectedAction: 'transfer_funds',
      customType: SudoActionType.GOLDEN_NUMBER,
      userSocketHash: (req: AppRequest) => req.user?.socketHash,
      title: 'Pick the number shown on your screen',
    }),
    (req: AppRequest, res) => {
      executed.push({ user: req.user?.socketHash, golden: true });
      res.json({ executed: true });
    },
  );
  bloonio.onApproved<{ project_id: string }>('delete_project', (op) => {
    replayed.push({ opId: op.opId, ...op.payload, approvals: op.approvals.length });
    return { deleted: op.payload.project_id };
  });
  app.post('/projects/delete', async (req: AppRequest, res, next) => {
    try {
      const { project_id, group_id } = req.body;
      res
        .status(202)
        .json(
          await bloonio.requestQuorum('delete_project', { project_id }, quorumOptions(project_id, group_id, String(req.user?.socketHash))),
        );
    } catch (e) {
      next(e);
    }
  });
  app.post('/bot', (_req, res) => void res.json({}));
  app.use((err: unknown, _req: Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'APP_ERROR', message: String(err) });
  });
  server.on('request', app);

  return {
    kind: 'express',
    url,
    tenant,
    bloonio,
    chat,
    statePrefix,
    executed,
    replayed,
    events,
    raw: [],
    ...helpers(url),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await bloonio.close();
    },
  };
}

// ----- one Koa app and one Express app per run (started on first use) -----

let both: Promise<{ koa: TestApp; express: TestApp }> | null = null;

export function apps(relay: Relay): Promise<{ koa: TestApp; express: TestApp }> {
  both ??= Promise.all([startKoaApp(relay), startExpressApp(relay)]).then(([koa, express]) => ({ koa, express }));
  return both;
}

after(async () => {
  if (!both) return;
  const { koa, express } = await both;
  await Promise.all([koa.close(), express.close()]);
});
