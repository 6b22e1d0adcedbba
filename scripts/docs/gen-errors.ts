/**
 * Writes docs/errors.md from the one table of error codes (api/error-codes.ts): the envelope, an
 * index by status, then one section per code whose anchor is the code in lower case (the link the
 * OpenAPI document gives for it). `--check` fails instead when the committed page differs.
 */
import { ERRORS, errorDocsAnchor, type ErrorCode } from '../../api/error-codes.js';
import { generatedBanner, isMain, linkDocs, writeOrCheck } from './generated-page.js';

export function errorsPage(): string {
  const codes = Object.keys(ERRORS) as ErrorCode[];
  const byStatus = [...new Set(codes.map((c) => ERRORS[c].status))].sort((a, b) => a - b);
  const out = [
    '# Errors',
    '',
    generatedBanner('api/error-codes.ts', 'scripts/docs/gen-errors.ts'),
    '',
    'Every error answers the same envelope, with a code from one closed list; each code has one HTTP status.',
    'Chat sockets send the same codes in an `error` frame.',
    '',
    '```json',
    '{',
    '  "success": false,',
    '  "status_code": 422,',
    '  "message": "The request body failed validation.",',
    '  "error": { "code": "VALIDATION_FAILED", "details": ["email: …"], "request_id": "…" }',
    '}',
    '```',
    '',
    '`error.details` lists one `path: problem` per invalid field (422), and is empty otherwise;',
    '`error.request_id` is also in the `X-Request-Id` header and in the logs. Answers that say when to try',
    'again (429, 503) carry `Retry-After`.',
    '',
    '| Status | Codes |',
    '|---|---|',
    ...byStatus.map(
      (status) =>
        `| ${status} | ${codes
          .filter((c) => ERRORS[c].status === status)
          .map((c) => `[\`${c}\`](#${errorDocsAnchor(c)})`)
          .join(', ')} |`,
    ),
  ];
  for (const code of codes) out.push('', `## ${code}`, '', `HTTP ${ERRORS[code].status}. ${linkDocs(ERRORS[code].doc)}`);
  return `${out.join('\n')}\n`;
}

if (isMain(import.meta.url)) writeOrCheck('docs/errors.md', errorsPage());
