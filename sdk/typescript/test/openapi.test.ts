/**
 * The client's types are the relay's: every method's request and response schemas, every callback
 * event's data, and the SDK's enumerations, compared exactly with the live relay's OpenAPI document
 * (`/api/v1/openapi.json`, generated from the relay's own zod schemas). Every `/relay/*` route of
 * the document has a client method.
 */
import assert from 'node:assert/strict';
import { AUTH_ROUTES, CALLBACK_EVENTS, CHAT_ROUTES, RELAY_CLIENT_ROUTES, SUDO_ROUTES, type RouteSpec } from '../src/index.js';
import { s, type Node } from '../src/schema.js';
import { compare, queryObject, type Findings, type Json } from './support/compare.js';
import { relay } from './support/relay.js';

const CLIENTS: Record<string, Record<string, RouteSpec>> = { RelayClient: RELAY_CLIENT_ROUTES, ChatRelayClient: CHAT_ROUTES };

function operation(doc: Json, spec: RouteSpec): Json | undefined {
  return doc.paths?.[`/api/v1${spec.path}`]?.[spec.method.toLowerCase()];
}

/**
 * Rules between fields that the relay's document states and the client's types do not carry (the
 * relay answers 422 naming the rule): each is listed here on purpose, so a new one fails until named.
 */
const UNTYPED_RULES = [
  'RelayClient.createGroup (POST /relay/sudo/create/group) body: bounds between member_relay_user_linked_ids|threshold (50 alternatives)',
  'RelayClient.sudoDispatch (POST /relay/sudo/dispatch) body: 5 rules between fields (allOf)',
  'RelayClient.webauthnAuthenticateOptions (POST /relay/webauthn/authenticate/options) body: at most one of backend_user_id|relay_user_linked_id',
];

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
    const f: Findings = { errors: [] };
    let compared = 0;
    for (const [client, routes] of Object.entries(CLIENTS)) {
      for (const [name, spec] of Object.entries(routes)) {
        const where = `${client}.${name} (${spec.method} ${spec.path})`;
        const op = operation(doc, spec);
        if (!op) {
          f.errors.push(`${where}: the document has no such route`);
          continue;
        }
        compared++;
        const o = { defaults: spec.defaults };
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
    assert.ok(compared >= 35, `compared ${compared} routes`);
    assert.deepEqual(f.errors, [], `the client's types disagree with the relay's document:\n  ${f.errors.join('\n  ')}`);
    // Each rule between fields the client's types do not carry, named: a new one must be looked at.
    assert.deepEqual((f.untyped ?? []).sort(), UNTYPED_RULES, 'rules between fields the client does not type');
  });

  it('types every callback event as the document’s webhooks (data and path)', function () {
    const f: Findings = { errors: [] };
    const hooks: Json = doc.webhooks ?? {};
    for (const [name, e] of Object.entries(CALLBACK_EVENTS)) {
      const post = hooks[name]?.post;
      if (!post) {
        f.errors.push(`${name}: the document has no such callback`);
        continue;
      }
      const env = post.requestBody?.content?.['application/json']?.schema;
      assert.deepEqual(env?.properties?.event_type, { const: name }, `${name}: event_type`);
      compare(e.data, env?.properties?.data, `${name} data`, { side: 'response' }, f);
      const path = /Path: (\S+?)\.?$/.exec(String(post.description))?.[1];
      if (path !== e.path) f.errors.push(`${name}: posted to ${path} by the relay, ${e.path} for the SDK`);
    }
    const unknown = Object.keys(hooks).filter((n) => !(n in CALLBACK_EVENTS));
    assert.deepEqual(unknown, [], `callbacks of the relay the SDK does not type: ${unknown.join(', ')}`);
    assert.deepEqual(f.errors, [], `callback types disagree with the relay's document:\n  ${f.errors.join('\n  ')}`);
  });

  it('fails when a type drifts from the document (a missing, extra, retyped, re-optioned or re-constrained field)', function () {
    const spec = AUTH_ROUTES.preparePairing;
    const body = operation(doc, spec).requestBody.content['application/json'].schema;
    const check = (node: Node) => {
      const f: Findings = { errors: [] };
      compare(node, body, 'preparePairing body', { side: 'request' }, f);
      return f.errors.join('\n');
    };
    const props = { ...spec.body.props };
    type Props = Record<string, { node: Node; optional: boolean }>;
    /** An object node of these fields; `requires` null: without the body's either-of. */
    const rebuilt = (p: Props, requires: Node['requires'] | null = spec.body.requires): Node =>
      ({ kind: 'object', props: p, ...(requires ? { requires } : {}) }) as Node;
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
    // The document's anyOf (an email or a phone number): dropped, made a oneOf, or over other fields.
    assert.match(check(rebuilt(props, null)), /the document needs at least one of user_email\|user_phone, the client does not model it/);
    assert.match(
      check(rebuilt(props, { mode: 'oneOf', fields: ['user_email', 'user_phone'] })),
      /needs at least one of user_email\|user_phone, the client exactly one of user_email\|user_phone/,
    );
    assert.match(
      check(rebuilt(props, { mode: 'anyOf', fields: ['user_email', 'first_name'] })),
      /the client at least one of first_name\|user_email/,
    );
    const devices = operation(doc, AUTH_ROUTES.fetchDevices).responses['200'].content['application/json'].schema.properties.data;
    const f: Findings = { errors: [] };
    const wrongEnum = s.object({
      user_socket_hash: s.string(),
      pairing_id: s.string(),
      relay_user_linked_id: s.string(),
      devices: s.array(
        rebuilt({ ...AUTH_ROUTES.revokeDevice.response.props, platform: { node: s.enum(['android', 'ios']), optional: false } }, null),
      ),
    });
    compare(wrongEnum, devices, 'fetchDevices response', { side: 'response' }, f);
    assert.match(f.errors.join('\n'), /platform: values differ: client android\|ios, document android\|cli\|ios\|web/);
    // A field the document forbids ("never send it") is one the client must not have.
    const dispatch = operation(doc, SUDO_ROUTES.sudoDispatch).requestBody.content['application/json'].schema;
    const g: Findings = { errors: [] };
    const withTenant = rebuilt({ ...SUDO_ROUTES.sudoDispatch.body.props, tenant_id: { node: s.string(), optional: true } }, null);
    compare(withTenant, dispatch, 'sudoDispatch body', { side: 'request', defaults: SUDO_ROUTES.sudoDispatch.defaults }, g);
    assert.deepEqual(g.errors, ['sudoDispatch body.tenant_id: the document forbids this field, the client has it']);
    // The document's if/then/else (numbers go with goldenNumber, and only with it): dropped, or another rule.
    const challenge = AUTH_ROUTES.sendAuthChallenge;
    const cdoc = operation(doc, challenge).requestBody.content['application/json'].schema;
    const onChallenge = (when: Node['when']) => {
      const h: Findings = { errors: [] };
      compare({ ...challenge.body, when } as Node, cdoc, 'sendAuthChallenge body', { side: 'request' }, h);
      return h.errors.join('\n');
    };
    assert.equal(onChallenge(challenge.body.when), '');
    assert.match(
      onChallenge(undefined),
      /custom_type goldenNumber needs numbers, otherwise excludes expected_number\|numbers; the client does not model it/,
    );
    assert.match(
      onChallenge({ ...challenge.body.when!, forbids: ['numbers'] }),
      /the client custom_type goldenNumber needs numbers, otherwise excludes numbers$/,
    );
  });
});
