/**
 * JSON logs (pino). Secrets never reach a log line: known secret-bearing headers and fields are
 * redacted at the logger, and call sites log ids rather than payloads.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-admin-key"]',
  'req.headers["x-bloonio-signature"]',
  'req.headers["x-qr-poll-token"]',
  'req.headers.cookie',
  '*.tenant_secret',
  '*.secret',
  '*.token',
  '*.password',
  '*.authorization',
  'tenant_secret',
  'secret',
  'token',
  'password',
];

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: name },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
