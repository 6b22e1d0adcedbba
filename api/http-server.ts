/**
 * The Node HTTP server around the Koa app. Requests Node's own parser refuses never reach Koa: an
 * oversized header block (431), a method token llhttp does not know, a malformed request line. Node's
 * default answer is a bare status line with an empty body; here they get the error envelope like
 * every other error (docs/contract.md §0), and the connection is closed, since the parser's state is lost.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ERROR_STATUS, errorEnvelope, ApiError, type ErrorCode } from './errors.js';

const PARSER_ERRORS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['HEADERS_TOO_LARGE', 'The request headers are too large.'],
  HPE_INVALID_METHOD: ['NOT_IMPLEMENTED', 'The relay does not implement this method.'],
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'The request headers did not arrive in time.'],
};

/** The envelope for a request the HTTP parser refused, as raw HTTP/1.1 bytes. */
export function parserErrorResponse(code: string | undefined): string {
  const [errorCode, message] = PARSER_ERRORS[code ?? ''] ?? (['BAD_REQUEST', 'The request could not be parsed as HTTP/1.1.'] as const);
  const body = JSON.stringify(errorEnvelope(new ApiError(errorCode, message), `req_${randomUUID()}`));
  const status = ERROR_STATUS[errorCode];
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * `headersTimeoutMs`: a request (an upgrade alike: it is one until its headers are complete) whose
 * headers have not all arrived by then gets 408 and is closed, checked a few times per period (Node's
 * default is 60 s, checked every 30 s).
 */
export function createHttpServer(handler: http.RequestListener, opts: { headersTimeoutMs?: number } = {}): http.Server {
  const t = opts.headersTimeoutMs;
  const server = t
    ? http.createServer({ headersTimeout: t, connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(t / 4))) }, handler)
    : http.createServer(handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or a timeout has nobody left to answer.
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end(parserErrorResponse(err.code));
  });
  return server;
}
