/**
 * The client's types are the relay's: every method's request and response schemas, every callback
 * event's data, and the SDK's enumerations, compared with the live relay's OpenAPI document
 * (`/api/v1/openapi.json`, generated from the relay's own zod schemas). Every `/relay/*` route of
 * the document has a client method. Routes and events coded to tools/SUDO_CONTRACT.md are compared
 * as soon as the document has them (counted as waiting until then).
 */
import assert from 'node:assert/strict';
import { AUTH_ROUTES, CALLBACK_EVENTS, CHAT_ROUTES, RELAY_CLIENT_ROUTES, type RouteSpec } from '../src/index.js';
import { s } from '../src/schema.js';
import { compare, queryObject, type Findings, type Json } from './support/compare.js';
import { relay } from './support/relay.js';

const CLIENTS: Record<string, Record<string, RouteSpec>> = { RelayClient: RELAY_CLIENT_ROUTES, ChatRelayClient: CHAT_ROUTES };

function operation(doc: Json, spec: RouteSpec): Json | undefined {
  return doc.paths?.[`/api/v1${spec.path}`]?.[spec.method.toLowerCase()];
}

describe('the client against the relay’s OpenAPI document', function () {
  let doc: Json;
  before(async function () {
    this.timeout(90_000);
    doc = (await relay()).openapi;
  });

  it('has a method for every /relay/* route of the document', function () {
    const methods = new Map<string, string>();
    for (const [client, routes] of Object.entries(CLIENTS)) {
      for (const [name, spec] of Object.entries(routes))
        methods.set(`${spec.method.toLowerCase()} /api/v1${spec.path}`, `${client}.${name}`);
    }
    const missing: string[] = [];
    let count = 0;
    for (const [path, ops] of Object.entries<Json>(doc.paths)) {
      if (!path.startsWith('/api/v1/relay/')) continue;
      for (const method of Object.keys(ops)) {
        count++;
        if (!methods.has(`${method} ${path}`)) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    assert.ok(count >= 22, `the document lists ${count} /relay/* routes`);
    assert.deepEqual(missing, [], `routes of the relay without a client method:\n  ${missing.join('\n  ')}`);
  });

  it('types every method exactly as the document (request, query, success status, response)', function () {
    const f: Findings = { errors: [], notes: [] };
    const waiting: string[] = [];
    let compared = 0;
    for (const [client, routes] of Object.entries(CLIENTS)) {
      for (const [name, spec] of Object.entries(routes)) {
        const where = `${client}.${name} (${spec.method} ${spec.path})`;
        const op = operation(doc, spec);
        if (!op) {
          if (spec.contract && !doc.paths['/api/v1/relay/sudo/dispatch']) waiting.push(name);
          else f.errors.push(`${where}: the document has no such route`);
          continue;
        }
        compared++;
        const o = { contract: spec.contract === true, defaults: spec.defaults };
        const body = op.requestBody?.content?.['application/json']?.schema;
        if (spec.body) compare(spec.body, body, `${where} body`, { ...o, side: 'request' }, f);
        else if (body) f.errors.push(`${where}: the document takes a body, the client sends none`);
        const query = op.parameters?.some((p: Json) => p.in === 'query') ? queryObject(op.parameters) : undefined;
        if (spec.query) compare(spec.query, query, `${where} query`, { ...o, side: 'request' }, f);
        else if (query) f.errors.push(`${where}: the document takes query parameters, the client sends none`);
        const statuses = Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2'));
        if (!statuses.includes(String(spec.status)))
          f.errors.push(`${where}: success status ${spec.status}, the document says ${statuses.join(', ')}`);
        const data = op.responses?.[statuses[0] ?? '']?.content?.['application/json']?.schema?.properties?.data;
        compare(spec.response, data, `${where} response`, { ...o, side: 'response' }, f);
      }
    }
    if (waiting.length) console.log(`      ${waiting.length} contract routes wait for the relay's sudo features: ${waiting.join(', ')}`);
    if (f.notes.length) console.log(`      notes (the contract's open fields):\n        ${f.notes.join('\n        ')}`);
    assert.ok(compared >= 22, `compared ${compared} routes`);
    assert.deepEqual(f.errors, [], `the client's types disagree with the relay's document:\n  ${f.errors.join('\n  ')}`);
  });

  it('types every callback event as the document’s webhooks (data and path)', function () {
    const f: Findings = { errors: [], notes: [] };
    const hooks: Json = doc.webhooks ?? {};
    const waiting: string[] = [];
    for (const [name, e] of Object.entries(CALLBACK_EVENTS)) {
      const post = hooks[name]?.post;
      if (!post) {
        if ('contract' in e && e.contract && !doc.paths['/api/v1/relay/sudo/dispatch']) waiting.push(name);
        else f.errors.push(`${name}: the document has no such callback`);
        continue;
      }
      const env = post.requestBody?.content?.['application/json']?.schema;
      assert.deepEqual(env?.properties?.event_type, { const: name }, `${name}: event_type`);
      compare(e.data, env?.properties?.data, `${name} data`, { contract: 'contract' in e && e.contract === true, side: 'response' }, f);
      const path = /Path: (\S+?)\.?$/.exec(String(post.description))?.[1];
      if (path !== e.path) f.errors.push(`${name}: posted to ${path} by the relay, ${e.path} for the SDK`);
    }
    const unknown = Object.keys(hooks).filter((n) => !(n in CALLBACK_EVENTS));
    assert.deepEqual(unknown, [], `callbacks of the relay the SDK does not type: ${unknown.join(', ')}`);
    if (waiting.length) console.log(`      ${waiting.length} contract event(s) wait for the relay's sudo features: ${waiting.join(', ')}`);
    assert.deepEqual(f.errors, [], `callback types disagree with the relay's document:\n  ${f.errors.join('\n  ')}`);
  });

  it('fails when a type drifts from the document (a missing, extra, retyped or re-optioned field)', function () {
    const op = operation(doc, AUTH_ROUTES.preparePairing);
    const body = op.requestBody.content['application/json'].schema;
    const check = (node: RouteSpec['response']) => {
      const f: Findings = { errors: [], notes: [] };
      compare(node, body, 'preparePairing body', { contract: false, side: 'request' }, f);
      return f.errors.join('\n');
    };
    const props = { ...AUTH_ROUTES.preparePairing.body.props };
    const rebuilt = (p: Record<string, { node: RouteSpec['response']; optional: boolean }>) =>
      ({ kind: 'object', props: p }) as RouteSpec['response'];
    assert.equal(check(rebuilt(props)), '');
    const { display_logo_url: _gone, ...without } = props;
    assert.match(check(rebuilt(without)), /fields the client lacks: display_logo_url/);
    assert.match(
      check(rebuilt({ ...props, nickname: { node: s.string(), optional: true } })),
      /nickname: the client has it, the document does not/,
    );
    assert.match(
      check(rebuilt({ ...props, display_name: { node: s.int(), optional: false } })),
      /client says integer, the document string/,
    );
    assert.match(
      check(rebuilt({ ...props, user_socket_hash: { node: s.string(), optional: true } })),
      /required by the document, optional in the client/,
    );
    assert.match(check(rebuilt({ ...props, user_email: { node: s.string(), optional: true } })), /the document allows null/);
    const devices = operation(doc, AUTH_ROUTES.fetchDevices).responses['200'].content['application/json'].schema.properties.data;
    const f: Findings = { errors: [], notes: [] };
    const wrongEnum = s.object({
      user_socket_hash: s.string(),
      pairing_id: s.string(),
      relay_user_linked_id: s.string(),
      devices: s.array(
        rebuilt({ ...AUTH_ROUTES.revokeDevice.response.props, platform: { node: s.enum(['android', 'ios']), optional: false } }),
      ),
    });
    compare(wrongEnum, devices, 'fetchDevices response', { contract: false, side: 'response' }, f);
    assert.match(f.errors.join('\n'), /platform: values differ: client android\|ios, document android\|cli\|ios\|web/);
  });
});
