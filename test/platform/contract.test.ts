/**
 * The contract both ways (issue 20, "the contract, checked by a fuzzer with every check on"): for each
 * mismatch class the fuzzer found, the OpenAPI document states the rule and the relay applies the same
 * rule, over real HTTP against a real relay. The last test keeps new routes to it: a rule between
 * fields that the relay checks (a zod refine on an object) must be stated in the document too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CROSS_FIELD, buildOpenApi } from '../../api/openapi.js';
import { ROUTES } from '../../api/routes.js';
import { startRelay, type Relay } from '../support/harness.js';
import { admin, call, provision, signed, signedHeaders, type TenantCreds } from '../support/client.js';
import { pairDevice } from '../auth/support.js';

type Json = Record<string, any>;
const doc = buildOpenApi(ROUTES, 'test') as Json;
const operation = (method: string, path: string): Json => doc.paths[`/api/v1${path}`][method];
const bodySchema = (path: string): Json => operation('post', path).requestBody.content['application/json'].schema;
const matches = (schema: Json, value: string) => new RegExp(schema.pattern, 'u').test(value);
const required = (branches: Json[]) => branches.map((b) => b.required);

describe('the API contract: what the document states, the relay does', function () {
  this.timeout(120_000);
  let relay: Relay;
  let creds: TenantCreds;

  before(async () => {
    relay = await startRelay('contract');
    creds = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, callback_url_base: 'http://127.0.0.1:9' });
  });
  after(async () => relay?.stop());

  const expectError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
  };
  const newUserHash = () => randomBytes(32).toString('hex');

  it("emails: one schema, whose pattern is within `format: email` (no host label ending in '-'), on every route", async () => {
    const operator = bodySchema('/relay/provision/operator').properties.email;
    const reset = bodySchema('/console/request/password-reset').properties.email;
    for (const s of [operator, reset]) {
      assert.equal(s.format, 'email');
      for (const bad of ['a@b-.com', 'a@-b.com', 'a@b.c0m', 'a@ab--c.com', `${'a'.repeat(65)}@b.com`]) assert.ok(!matches(s, bad), bad);
      for (const good of ['a@b.com', 'first.last+tag@mail.example.co', "o'neil@b-c.io"]) assert.ok(matches(s, good), good);
    }
    assert.deepEqual(operator.pattern, reset.pattern);
    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', { email: 'a@b-.com', display_name: 'A' });
    expectError(r, 422, 'VALIDATION_FAILED');
    assert.match(r.body.error.details.join(' '), /^email: /);
    const reset422 = await call(relay.baseUrl, 'POST', '/api/v1/console/request/password-reset', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'a@b-.com' }),
    });
    expectError(reset422, 422, 'VALIDATION_FAILED');
    const ok = await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', { email: 'a@b-c.com', display_name: 'A' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('a JSON null body is refused (422) where the document asks for an object; only an absent body reads as {}', async () => {
    assert.equal(bodySchema('/relay/send/test-callback').type, 'object');
    const raw = 'null';
    const headers = { ...signedHeaders(creds, raw), 'Content-Type': 'application/json' };
    expectError(await call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', { headers, body: raw }), 422, 'VALIDATION_FAILED');
    // No body at all is still the empty object the document allows (requestBody not required).
    assert.equal(operation('post', '/relay/send/test-callback').requestBody.required, false);
    const none = await call(relay.baseUrl, 'POST', '/api/v1/relay/send/test-callback', { headers: signedHeaders(creds, '') });
    assert.ok(none.status < 300, JSON.stringify(none.body));
  });

  it('webauthn_rp_id: the document says lower case, and the relay refuses upper case instead of folding it', async () => {
    const s = bodySchema('/update/tenant').properties.webauthn_rp_id.anyOf[0];
    assert.ok(!matches(s, 'Example.COM') && matches(s, 'example.com'));
    const r = await admin(relay.baseUrl, 'POST', `/update/tenant?tenant_id=${creds.tenantId}`, { webauthn_rp_id: 'Example.COM' });
    expectError(r, 422, 'VALIDATION_FAILED');
    const got = await admin(relay.baseUrl, 'GET', `/fetch/tenant?tenant_id=${creds.tenantId}`);
    assert.notEqual(got.body.data.webauthn_rp_id, 'example.com');
  });

  it('whitespace-only text: the document (trimmed-length pattern) and the relay both refuse it', async () => {
    const text = bodySchema('/operator/send/message').properties.text;
    assert.equal(text.minLength, undefined, 'minLength would count the whitespace the relay trims');
    for (const blank of ['', '   ', '\n\t\u00a0']) assert.ok(!matches(text, blank), JSON.stringify(blank));
    for (const ok of ['hi', '  hi\n', `${' '.repeat(10)}${'x'.repeat(4000)}`]) assert.ok(matches(text, ok));
    assert.ok(!matches(text, 'x'.repeat(4001)));
    const name = bodySchema('/relay/provision/operator').properties.display_name;
    assert.ok(!matches(name, '   '));
    expectError(
      await signed(relay.baseUrl, creds, 'POST', '/relay/provision/operator', { email: 'blank@b.com', display_name: '   ' }),
      422,
      'VALIDATION_FAILED',
    );
  });

  it('rules between fields are in the document: exactly one, at most one, at least one, if/then', async () => {
    const register = bodySchema('/relay/webauthn/register/options');
    assert.deepEqual(required(register.oneOf), [['relay_user_linked_id'], ['backend_user_id']]);
    assert.deepEqual(bodySchema('/relay/webauthn/authenticate/options').not, { required: ['relay_user_linked_id', 'backend_user_id'] });
    assert.deepEqual(required(bodySchema('/console/register').oneOf), [['organization_name'], ['invite_token']]);
    const update = bodySchema('/relay/sudo/update/group');
    assert.deepEqual(required(update.anyOf), [['name'], ['member_relay_user_linked_ids'], ['threshold'], ['deny_on_first_denial']]);
    const dispatch = bodySchema('/relay/sudo/dispatch');
    assert.equal(dispatch.allOf.length, 5);
    // A query rule: the query is one form-exploded object parameter that keeps it.
    const [q] = operation('get', '/relay/sudo/fetch/event').parameters;
    assert.deepEqual([q.in, q.style, q.explode], ['query', 'form', true]);
    assert.deepEqual(required(q.schema.oneOf), [['event_id'], ['instruction_id']]);

    // … and the relay applies them as stated.
    const both = await signed(relay.baseUrl, creds, 'POST', '/relay/webauthn/register/options', {
      relay_user_linked_id: 'a'.repeat(24),
      backend_user_id: 'u1',
      username: 'u',
      browser_origin: 'https://example.com',
    });
    expectError(both, 422, 'VALIDATION_FAILED');
    expectError(
      await signed(relay.baseUrl, creds, 'GET', '/relay/sudo/fetch/event?event_id=abcd&instruction_id=x'),
      422,
      'VALIDATION_FAILED',
    );
    expectError(await signed(relay.baseUrl, creds, 'GET', '/relay/sudo/fetch/event'), 422, 'VALIDATION_FAILED');
    expectError(
      await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/update/group', { group_id: `grp_${'0'.repeat(26)}` }),
      422,
      'VALIDATION_FAILED',
    );
  });

  it('group threshold ≤ members: stated (distinct members, one branch per count); a stored conflict is 409, an unknown member 404', async () => {
    const create = bodySchema('/relay/sudo/create/group');
    assert.equal(create.properties.member_relay_user_linked_ids.uniqueItems, true);
    assert.equal(create.anyOf.length, 50);
    assert.deepEqual(create.anyOf[1], { properties: { threshold: { maximum: 2 }, member_relay_user_linked_ids: { minItems: 2 } } });
    const alice = await pairDevice(relay.baseUrl, creds, newUserHash(), { backendUserId: 'alice' });
    const link = String(alice.state.pairing?.relay_user_linked_id);
    const group = (body: Json) => signed(relay.baseUrl, creds, 'POST', '/relay/sudo/create/group', { name: 'g', ...body });
    expectError(await group({ member_relay_user_linked_ids: [link], threshold: 2 }), 422, 'VALIDATION_FAILED');
    expectError(await group({ member_relay_user_linked_ids: [link, link], threshold: 2 }), 422, 'VALIDATION_FAILED');
    // A well-formed id that names nothing here: 404 (the document promises nothing about ids that exist).
    const unknown = await group({ member_relay_user_linked_ids: [link, 'f'.repeat(24)], threshold: 1 });
    expectError(unknown, 404, 'NOT_FOUND');
    assert.deepEqual(unknown.body.error.details, ['member_relay_user_linked_ids.1: not one of your relay_user links']);
    assert.ok(operation('post', '/relay/sudo/create/group').responses['404']);
    const created = await group({ member_relay_user_linked_ids: [link], threshold: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const stale = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/update/group', {
      group_id: created.body.data.group_id,
      threshold: 2,
    });
    expectError(stale, 409, 'CONFLICT');
    assert.match(operation('post', '/relay/sudo/update/group').responses['409'].description, /threshold above/);
    const grant = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/create/delegation-grant', {
      grantee_tenant_id: `tnt_${'0'.repeat(24)}`,
      relay_user_linked_id_list: [link],
    });
    expectError(grant, 404, 'NOT_FOUND');
  });

  it('expected_number one of numbers: a rule JSON Schema cannot state is in the description, and applied', async () => {
    assert.match(
      operation('post', '/relay/send/auth-challenge').description,
      /Rule: expected_number: only for goldenNumber, one of numbers\./,
    );
    const r = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', {
      user_socket_hash: newUserHash(),
      instruction_id: 'contract-1',
      custom_type: 'goldenNumber',
      expected_action: 'login',
      numbers: [11, 22, 33],
      expected_number: 44,
    });
    expectError(r, 422, 'VALIDATION_FAILED');
    assert.match(r.body.error.details.join(' '), /expected_number: must be one of numbers/);
  });

  it('every rule between fields the relay checks on a body or query is stated in the document (new routes included)', () => {
    const unstated: string[] = [];
    for (const r of ROUTES) {
      for (const [where, schema] of [
        ['body', r.body],
        ['query', r.query],
      ] as const) {
        if (!schema) continue;
        const def = (schema as { _zod: { def: { type: string; checks?: { _zod: { def: { check: string } } }[] } } })._zod.def;
        const refined = def.type === 'object' && def.checks?.some((c) => c._zod.def.check === 'custom');
        if (!refined) continue;
        const meta = (z.globalRegistry.get(schema) ?? {}) as Json;
        if (![...CROSS_FIELD, 'x-rules'].some((k) => k in meta)) unstated.push(`${r.method.toUpperCase()} ${r.path} (${where})`);
      }
    }
    assert.deepEqual(
      unstated,
      [],
      'a .refine() between fields needs its JSON Schema in .meta() (or x-rules when JSON Schema cannot say it)',
    );
  });
});
