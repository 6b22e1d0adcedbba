/**
 * One HTTP request and its answer, the same for Koa and Express, so the callback routes, the
 * submit-response route and `sudoRequired` are written once. Koa and Express are typed here
 * structurally (their real types fit), so neither has to be installed to use the other.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** What the SDK uses of a Koa context. */
export interface KoaContextLike {
  req: IncomingMessage;
  request: object;
  headers: IncomingHttpHeaders;
  method: string;
  path: string;
  state: object;
  status: number;
  body: unknown;
  set(field: { [key: string]: string }): void;
}
export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

/** What the SDK uses of an Express request and response. */
export interface ExpressRequestLike extends IncomingMessage {
  body?: unknown;
  path?: string;
}
export interface ExpressResponseLike extends ServerResponse {
  locals: Record<string, unknown>;
}
export type ExpressNext = (err?: unknown) => void;
export type ExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) => void;

/** Middleware for either framework (the SDK tells them apart by their arguments). */
export interface DualMiddleware {
  (ctx: KoaContextLike, next: KoaNext): Promise<void>;
  (req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext): void;
}

export const MAX_BODY_BYTES = 1_048_576;

/** The answer of one handled request. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Exchange {
  method: string;
  /** The path, without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The request, as the framework gives it to user callbacks (Koa's ctx, Express's req). */
  request: unknown;
  /** The raw body: read from the stream, or the bytes a body parser kept (`rawBody`). */
  raw(): Promise<Buffer>;
  /** Parses a JSON body into the framework's place for it (`ctx.request.body`, `req.body`) when nothing did. */
  parseJson(): Promise<Answer | null>;
  send(a: Answer): void;
}

export class BodyError extends Error {
  constructor(readonly answer: Answer) {
    super(String((answer.body as { error?: string }).error));
  }
}

async function readStream(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new BodyError({ status: 413, body: { error: 'PAYLOAD_TOO_LARGE' } });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new BodyError({ status: 413, body: { error: 'PAYLOAD_TOO_LARGE' } });
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

const CONSUMED: Answer = {
  status: 500,
  body: {
    error: 'BODY_ALREADY_READ',
    message:
      "A body parser read this callback before Bloonio's middleware could verify its raw bytes: mount bloonio.koa() / bloonio.express() before your body parser, or keep the raw body (rawBody).",
  },
};

const isJson = (headers: IncomingHttpHeaders) => /^application\/([a-z0-9.+-]*\+)?json\b/i.test(String(headers['content-type'] ?? ''));

/** Reads and parses a JSON request body once, keeping the raw bytes for whoever verifies them. */
async function parsedJson(req: IncomingMessage): Promise<{ raw: Buffer; body: unknown }> {
  const raw = await readStream(req);
  if (raw.length === 0) return { raw, body: {} };
  try {
    return { raw, body: JSON.parse(raw.toString('utf8')) };
  } catch {
    throw new BodyError({ status: 400, body: { error: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } });
  }
}

const streamDone = (req: IncomingMessage) => req.readableEnded || req.complete;

export function koaExchange(ctx: KoaContextLike): Exchange {
  const request = ctx.request as { body?: unknown; rawBody?: string | Buffer };
  return {
    method: ctx.method,
    path: ctx.path,
    headers: ctx.headers,
    request: ctx,
    async raw() {
      if (request.rawBody !== undefined) return Buffer.from(request.rawBody);
      if (request.body !== undefined || streamDone(ctx.req)) throw new BodyError(CONSUMED);
      return readStream(ctx.req);
    },
    async parseJson() {
      if (request.body !== undefined || !isJson(ctx.headers) || streamDone(ctx.req)) return null;
      try {
        const { raw, body } = await parsedJson(ctx.req);
        request.body = body;
        request.rawBody = raw.toString('utf8');
        return null;
      } catch (e) {
        if (e instanceof BodyError) return e.answer;
        throw e;
      }
    },
    send(a) {
      ctx.status = a.status;
      if (a.headers) ctx.set(a.headers);
      ctx.body = a.body;
    },
  };
}

export function expressExchange(req: ExpressRequestLike, res: ExpressResponseLike): Exchange {
  const r = req as ExpressRequestLike & { rawBody?: string | Buffer };
  return {
    method: req.method ?? 'GET',
    path: req.path ?? new URL(req.url ?? '/', 'http://x').pathname,
    headers: req.headers,
    request: req,
    async raw() {
      if (r.rawBody !== undefined) return Buffer.from(r.rawBody);
      if (Buffer.isBuffer(r.body)) return r.body; // express.raw()
      if (r.body !== undefined || streamDone(req)) throw new BodyError(CONSUMED);
      return readStream(req);
    },
    async parseJson() {
      if (r.body !== undefined || !isJson(req.headers) || streamDone(req)) return null;
      try {
        const { raw, body } = await parsedJson(req);
        r.body = body;
        r.rawBody = raw;
        return null;
      } catch (e) {
        if (e instanceof BodyError) return e.answer;
        throw e;
      }
    },
    send(a) {
      const text = JSON.stringify(a.body);
      res.statusCode = a.status;
      for (const [k, v] of Object.entries(a.headers ?? {})) res.setHeader(k, v);
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(text));
      res.end(text);
    },
  };
}

/** Koa's `(ctx, next)`: a context carries its Node request and its own request object. */
export const isKoaContext = (a: unknown, b: unknown): a is KoaContextLike =>
  typeof b === 'function' && typeof a === 'object' && a !== null && 'req' in a && 'request' in a && 'state' in a;

/** A request handler of either framework: `route` answers (true) or passes (false). */
export function dualRoutes(route: (ex: Exchange) => Promise<boolean>, o: { parseJson: boolean }): DualMiddleware {
  async function koa(ctx: KoaContextLike, next: KoaNext) {
    const ex = koaExchange(ctx);
    if (await route(ex)) return;
    if (o.parseJson) {
      const refused = await ex.parseJson();
      if (refused) return ex.send(refused);
    }
    await next();
  }
  function express(req: ExpressRequestLike, res: ExpressResponseLike, next: ExpressNext) {
    const ex = expressExchange(req, res);
    route(ex)
      .then(async (done) => {
        if (done) return;
        const refused = o.parseJson ? await ex.parseJson() : null;
        if (refused) ex.send(refused);
        else next();
      })
      .catch(next);
  }
  return function bloonio(a: unknown, b: unknown, c?: unknown) {
    if (isKoaContext(a, b)) return koa(a, b as KoaNext);
    if (typeof c === 'function') return express(a as ExpressRequestLike, b as ExpressResponseLike, c as ExpressNext);
    throw new TypeError('Bloonio middleware: mount it in a Koa app (app.use) or an Express app (app.use)');
  } as DualMiddleware;
}
