/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with
 * (zod 4's JSON Schema output is draft 2020-12, which is OpenAPI 3.1's dialect).
 */
import { z } from 'zod';
import { CALLBACK_EVENTS } from '../models/platform/callback-catalogue.js';
import { ERRORS, errorDocsPath } from './error-codes.js';
import { ERROR_CODES, ERROR_STATUS } from './errors.js';
import type { AnyRoute, Security } from './route.js';

type Json = Record<string, unknown>;

const jsonSchema = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const out = z.toJSONSchema(s, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: io === 'input' ? trimmedText : undefined,
  }) as Json;
  delete out.$schema;
  return out;
};

/**
 * What JavaScript's String.prototype.trim removes (WhiteSpace and LineTerminator), as literal
 * characters: a pattern's `\s` means another set in some validators (Unicode White_Space has U+0085
 * and lacks U+FEFF).
 */
const TRIMMED = '\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
const [WS, NONWS] = [`[${TRIMMED}]`, `[^${TRIMMED}]`];

/**
 * A string the relay trims before checking its length (`.trim().min(a).max(b)`) accepts any
 * surrounding whitespace, and its length bounds hold for the trimmed text: "   " is refused by
 * min(1), and padding never counts against max. minLength/maxLength would say the opposite, so
 * the document states the bounds as a pattern over the trimmed text instead.
 */
function trimmedText(ctx: { zodSchema: unknown; jsonSchema: Json }): void {
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; checks?: { _zod: { def: { check?: string; tx?: unknown } } }[] } } })._zod
    ?.def;
  if (def?.type !== 'string') return;
  // zod keeps no name for .trim(): recognise it by what it does.
  const trims = def.checks?.some((c) => {
    const { check, tx } = c._zod.def;
    return check === 'overwrite' && typeof tx === 'function' && (tx as (v: string) => string)(' \u00a0x y\n') === 'x y';
  });
  const js = ctx.jsonSchema;
  if (!trims || (js.minLength === undefined && js.maxLength === undefined)) return;
  const min = (js.minLength as number | undefined) ?? 0;
  const max = js.maxLength as number | undefined;
  const inner = (lo: number) => `[\\s\\S]{${lo},${max === undefined ? '' : max - 2}}`;
  // The trimmed text: empty, one non-space character, or two with anything between them.
  const core =
    min >= 2 ? `${NONWS}${inner(min - 2)}${NONWS}` : `${NONWS}(?:${max === 1 ? '' : `${inner(0)}${NONWS}`})${max === 1 ? '' : '?'}`;
  const trimmed = min === 0 ? `(?:${core})?` : core;
  const pattern = `^${WS}*${trimmed}${WS}*$`;
  delete js.minLength;
  delete js.maxLength;
  if (js.pattern !== undefined) js.allOf = [...((js.allOf as Json[] | undefined) ?? []), { pattern: js.pattern }];
  js.pattern = pattern;
  js.description = [js.description, 'Surrounding whitespace is trimmed; the length bounds hold for the trimmed text.']
    .filter(Boolean)
    .join(' ');
}

const SECURITY: Record<Security, Json[]> = {
  admin: [{ AdminKey: [] }],
  hmac: [{ TenantId: [], Timestamp: [], Signature: [] }],
  device: [{ DeviceBearer: [] }],
  'pairing-proof': [{ PairingProofBearer: [] }],
  visitor: [{ VisitorBearer: [] }],
  'visitor-refresh': [{ VisitorBearer: [] }],
  operator: [{ OperatorBearer: [] }],
  console: [{ ConsoleBearer: [] }],
  none: [],
};

const COMMON_ERRORS: Record<Security, number[]> = {
  admin: [400, 401, 404, 422, 503],
  hmac: [400, 401, 403, 413, 422, 429, 503],
  device: [400, 401, 403, 404, 410, 422, 503],
  'pairing-proof': [400, 401, 403, 410, 422, 503],
  visitor: [400, 401, 403, 422, 429, 503],
  'visitor-refresh': [400, 401, 403, 422, 503],
  operator: [400, 401, 403, 404, 422, 503],
  console: [400, 401, 403, 404, 422, 503],
  none: [400, 422, 503],
};

const HMAC_DOC =
  'Every /relay/* call is signed (HMAC #1): X-Bloonio-Signature = hex(hmac_sha256(tenant_secret, "{timestamp_ms}.{sha256_hex(raw_body)}")); a body-less request signs the hash of the empty string. The query string is not signed. The checks, in order, and their refusals: docs/api.md#signed-calls.';

const DEVICE_DOC =
  'device_session_token, and every request signed by the device key: X-Device-Signature = base64url(ECDSA-P256-SHA256(device key, "BLOONIO-DEVICE-V1\\n{METHOD}\\n{path?query}\\n{X-Device-Timestamp}\\n{X-Device-Nonce}\\n{sha256_hex(raw_body)}")). More: docs/api.md#device-protocol.';

const CALLBACK_DOC =
  'POSTed by the relay to {callback_url_base}{path}, signed with HMAC #1 by the tenant secret (X-Bloonio-Tenant-Id, X-Bloonio-Timestamp, X-Bloonio-Signature over the raw body), plus X-Bloonio-Event-Id (the same on every retry: de-duplicate on it) and X-Bloonio-Event-Type. At least once; retried on network errors, timeouts, 408, 429 and 5xx. Answer 2xx once handled.';

/** The callback catalogue (models/platform/callback-catalogue.ts) as OpenAPI 3.1 webhooks. */
function callbackWebhooks(): Record<string, Json> {
  const example = { _id: 'tnt_…', callback_url_base: '{callback_url_base}', sudo_callback_path: '{sudo_callback_path}' };
  return Object.fromEntries(
    Object.entries(CALLBACK_EVENTS).map(([name, e]) => [
      name,
      {
        post: {
          operationId: `callback.${name}`,
          summary: e.summary,
          description: `${CALLBACK_DOC} Path: ${e.path(example)}.`,
          tags: ['Callbacks'],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['event_id', 'event_type', 'tenant_id', 'created_at', 'data'],
                  properties: {
                    event_id: { type: 'string' },
                    event_type: { const: name },
                    tenant_id: { type: 'string' },
                    created_at: { type: 'string', format: 'date-time' },
                    data: jsonSchema(e.data, 'input'),
                  },
                },
              },
            },
          },
          responses: { '2XX': { description: 'Received; any other answer is retried or dead-lettered (see above).' } },
        },
      },
    ]),
  );
}

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } };
const errorDescription = (status: number) => `Error ${status}: ${ERROR_CODES.filter((c) => ERROR_STATUS[c] === status).join(', ')}`;

/** JSON Schema keywords that state a rule between an object's fields. */
export const CROSS_FIELD = ['oneOf', 'anyOf', 'allOf', 'not', 'if', 'dependentRequired', 'dependentSchemas', 'minProperties'];

/**
 * Rules JSON Schema cannot state (e.g. "expected_number is one of numbers"), declared as
 * `.meta({ 'x-rules': [...] })` on a body or query schema: they stay in the schema and are
 * repeated in the operation's description.
 */
function rulesOf(r: AnyRoute): string[] {
  return [r.body, r.query].flatMap((s: z.ZodType | undefined) => {
    const rules = s ? (z.globalRegistry.get(s) as { 'x-rules'?: unknown } | undefined)?.['x-rules'] : undefined;
    return Array.isArray(rules) ? (rules as string[]) : [];
  });
}

export function buildOpenApi(routes: AnyRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = `/api/v1${r.path}`;
    const op: Json = {
      operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      ...(r.description || r.docs || r.consoleRole || r.consoleStepUp || rulesOf(r).length
        ? {
            description: [
              r.description,
              r.consoleRole && `Needs the ${r.consoleRole} role (or above) in the workspace named by workspace_id.`,
              r.consoleStepUp &&
                `${r.consoleStepUp === true ? 'Always needs' : 'For the sensitive changes named above, needs'} a recent password or TOTP code (console/reauthenticate within CONSOLE_STEP_UP_SECONDS), else 403 STEP_UP_REQUIRED.`,
              ...rulesOf(r).map((rule) => `Rule: ${rule}.`),
              r.docs && `More: docs/${r.docs}.`,
            ]
              .filter(Boolean)
              .join(' '),
          }
        : {}),
      ...(r.docs ? { 'x-docs': `docs/${r.docs}` } : {}),
      ...(r.consoleRole ? { 'x-console-role': r.consoleRole } : {}),
      ...(r.consoleStepUp ? { 'x-console-step-up': r.consoleStepUp === true ? 'always' : 'some changes' } : {}),
      tags: r.tags,
      security: SECURITY[r.security as Security],
    };
    if (r.query) {
      const qs = jsonSchema(r.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
      // A rule between query parameters (e.g. exactly one of two) belongs to no single parameter: the
      // query is then one form-exploded object parameter, which serialises to the same ?a=…&b=… and
      // keeps the rule (OpenAPI 3.1, style: form, explode: true).
      op.parameters = CROSS_FIELD.some((k) => k in qs)
        ? [{ name: 'query', in: 'query', style: 'form', explode: true, required: true, schema: qs }]
        : Object.entries(qs.properties ?? {}).map(([name, schema]) => ({
            name,
            in: 'query',
            required: qs.required?.includes(name) ?? false,
            schema,
          }));
    }
    // A missing body is read as {} (api/route.ts): the body is optional exactly when {} is valid.
    if (r.body)
      op.requestBody = {
        required: !r.body.safeParse({}).success,
        content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
      };
    const data = jsonSchema(r.response, 'output');
    const responses: Json = {};
    for (const ok of [r.successStatus ?? 200, ...(r.otherSuccessStatuses ?? [])]) {
      responses[ok] = {
        description: 'Success',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['success', 'status_code', 'message', 'data'],
              properties: { success: { const: true }, status_code: { const: ok }, message: { type: 'string' }, data },
            },
          },
        },
      };
    }
    const notes: Partial<Record<number, string>> = Array.isArray(r.errors) ? {} : (r.errors ?? {});
    const listed = Array.isArray(r.errors) ? r.errors : Object.keys(notes).map(Number);
    for (const status of [...new Set([...COMMON_ERRORS[r.security as Security], ...listed])].sort()) {
      responses[status] = notes[status]
        ? { description: `${errorDescription(status)}. ${notes[status]}`, content: ERROR_CONTENT }
        : { $ref: `#/components/responses/Error${status}` };
    }
    op.responses = responses;
    paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
  }

  const statuses = [...new Set(Object.values(ERROR_STATUS))].sort();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bloonio Relay API',
      version,
      description: `Auth Relay and Chat Relay on one platform. Success envelope: {success: true, status_code, message, data}. Error envelope: {success: false, status_code, message, error: {code, details, request_id}}, with codes from one closed list, each explained in docs/errors.md.\n\n${HMAC_DOC}`,
    },
    servers: [{ url: '/' }],
    paths,
    webhooks: callbackWebhooks(),
    components: {
      securitySchemes: {
        AdminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key', description: 'Platform admin key (one of ADMIN_API_KEY).' },
        TenantId: { type: 'apiKey', in: 'header', name: 'X-Bloonio-Tenant-Id' },
        Timestamp: { type: 'apiKey', in: 'header', name: 'X-Bloonio-Timestamp', description: 'Unix milliseconds.' },
        Signature: { type: 'apiKey', in: 'header', name: 'X-Bloonio-Signature', description: HMAC_DOC },
        DeviceBearer: {
          type: 'http',
          scheme: 'bearer',
          description: DEVICE_DOC,
        },
        PairingProofBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'pairing_proof, and the request signed by the key being registered (X-Device-*)',
        },
        VisitorBearer: { type: 'http', scheme: 'bearer' },
        OperatorBearer: { type: 'http', scheme: 'bearer' },
        ConsoleBearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        ErrorEnvelope: {
          type: 'object',
          required: ['success', 'status_code', 'message', 'error'],
          properties: {
            success: { const: false },
            status_code: { type: 'integer' },
            message: { type: 'string' },
            error: {
              type: 'object',
              required: ['code', 'details', 'request_id'],
              properties: {
                code: {
                  type: 'string',
                  enum: ERROR_CODES,
                  description:
                    'One of a closed list. Each code has one HTTP status and a section of its own in docs/errors.md (docs/errors.md#<code in lower case>); x-error-docs maps every code to its status, meaning and section.',
                  'x-error-docs': Object.fromEntries(
                    ERROR_CODES.map((c) => [c, { status: ERRORS[c].status, meaning: ERRORS[c].doc, docs: errorDocsPath(c) }]),
                  ),
                },
                details: { type: 'array', items: { type: 'string' }, description: 'For 422: one `path: problem` per invalid field.' },
                request_id: { type: 'string' },
              },
            },
          },
        },
      },
      responses: Object.fromEntries(statuses.map((s) => [`Error${s}`, { description: errorDescription(s), content: ERROR_CONTENT }])),
    },
  };
}
