/**
 * Reads the raw request body (HMAC needs the exact bytes), enforces the size limit (413) and parses
 * JSON strictly (400 when malformed, not UTF-8, or with a repeated key: see strict-json.ts). The same parser serves every route, including the benchmark's bare one.
 */
import type { Middleware } from 'koa';
import { ApiError } from '../errors.js';
import type { AppState } from '../context.js';
import { parseStrictJson } from './strict-json.js';

export function bodyMiddleware(limitBytes: number): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS' || ctx.method === 'DELETE') {
      ctx.state.rawBody = Buffer.alloc(0);
      return next();
    }
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limitBytes) throw tooLarge(limitBytes);
    const raw = await readRaw(ctx.req, limitBytes);
    ctx.state.rawBody = raw;
    if (raw.length > 0) {
      const type = ctx.get('content-type');
      if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
      }
      const parsed = parseStrictJson(raw);
      if (!parsed.ok) throw new ApiError('MALFORMED_JSON', MALFORMED[parsed.reason]);
      ctx.state.body = parsed.value;
    }
    return next();
  };
}

const MALFORMED = {
  utf8: 'The request body is not valid UTF-8.',
  syntax: 'The request body is not valid JSON.',
  // The key is not named: it is the caller's text.
  duplicate: 'The request body repeats a key within one object; send each key once.',
} as const;

const tooLarge = (limit: number) => new ApiError('PAYLOAD_TOO_LARGE', `The request body exceeds ${limit} bytes.`);

function readRaw(req: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // drain, so the 413 can still be written on this connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new ApiError('BAD_REQUEST', 'The request body could not be read.')));
  });
}
