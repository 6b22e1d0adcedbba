/**
 * The tenant isolation matrix, generated from the route table (api/routes.ts ROUTES): for every
 * tenant-scoped route (security hmac, device, operator, visitor) and every id-carrying field of its
 * query or body (found by field name), tenant B's credentials with tenant A's id answer exactly as
 * with a random id of the same format: the same status and the same body (request_id aside); for
 * lookups that answer is 404. No answer to B, on any route, contains any of A's ids.
 *
 * A field the generator does not know fails the run: a new route cannot slip past the matrix;
 * classify its fields below (an id kind, or not an id).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ROUTES } from '../../api/routes.js';
import type { AnyRoute } from '../../api/route.js';
import { makeQrCode } from '../../api/auth/qr-code.js';
import { PasskeyModel, passkeyDocId } from '../../models/auth/passkey.js';
import { newId, newTenantId } from '../../platform/ids.js';
import type { KeyRing } from '../../platform/secret-box.js';
import { DeviceClient } from '../../scripts/device.js';
import { Receiver } from '../fakes/receiver.js';
import { pairDevice, prepareProof } from '../auth/support.js';
import { call, provision, signed, type TenantCreds } from '../support/client.js';
import { createSession, provisionOperator } from '../support/chat-client.js';
import { startRelay, type Relay } from '../support/harness.js';

/** Fields that carry the id of a tenant's object, by kind. */
const ID_FIELDS: Record<string, string> = {
  user_socket_hash: 'user hash',
  device_id: 'device',
  instruction_id: 'instruction',
  request_id: 'approval request',
  operator_id: 'operator',
  email: 'operator email',
  session_id: 'visitor session',
  conversation_id: 'conversation',
  ticket_id: 'ticket',
  tenant_id: 'tenant',
  visitor_user_id: 'visitor user',
  backend_user_id: 'backend user',
  relay_user_linked_id: 'relay user link',
  relay_user_linked_id_list: 'relay user link (list)',
  member_relay_user_linked_ids: 'relay user link (list)',
  relay_group_linked_id_list: 'approver group (list)',
  relay_group_linked_id: 'approver group',
  group_id: 'approver group',
  event_id: 'sudo event',
  grant_id: 'delegation grant',
  credential_id: 'passkey',
  qr_code_str: 'qr code',
};
/** Fields whose value is a list of ids (the id under test goes in a one-element list). */
const LIST_KINDS = new Set(['relay user link (list)', 'approver group (list)']);
/** A route whose missing object answers another status than 404 (the QR poll: 410 for any unknown session). */
const MISSING_STATUS: Record<string, number> = { 'get /relay/qr-login/poll session_id': 410 };
/** Per-route kinds where a field's name means something else there (a QR-login session, not a visitor session). */
const KIND_OF: Record<string, string> = { 'get /relay/qr-login/poll session_id': 'qr session' };
/** Fields that carry no object id (content, options, the caller's own credentials). */
const NOT_IDS = new Set([
  'note',
  'browser_user_agent',
  'number_matching',
  'number',
  'display_name',
  'user_email',
  'user_phone',
  'first_name',
  'last_name',
  'display_logo_url',
  'public_key',
  'platform',
  'device_name',
  'fcm_token',
  'custom_type',
  'expected_action',
  'backend_url',
  'description',
  'ttl_seconds',
  'numbers',
  'expected_number',
  'display',
  'title',
  'body',
  'alert_type',
  'decision',
  'answer',
  'timestamp',
  'signature',
  'routing_keys',
  'role',
  'visitor_email_hash',
  'origin',
  'routing_key',
  'mode',
  'locale',
  'sender_type',
  'text',
  'reason',
  'after_seq',
  'limit',
  'status',
  'mine',
  'on',
  // sudo, QR login, passkeys
  'approval_event',
  'event_type',
  'action_type',
  'fields',
  'threshold',
  'data_access_type',
  'data_items',
  'data_fetch_url',
  'idempotency_key',
  'deny_on_first_denial',
  'name',
  'display_hash',
  'response',
  'browser_origin',
  'username',
  'grantor_tenant_id',
  'grantee_tenant_id',
]);
/**
 * (route, field) pairs where the value names something in the caller's own namespace (it creates or
 * upserts B's object, or must match B's own credential): not a lookup, so not necessarily 404, but
 * still answered exactly as for a random value.
 */
const OWN_NAMESPACE = new Set([
  'post /relay/prepare-pairing user_socket_hash',
  'post /relay/prepare-pairing backend_user_id',
  'post /relay/send/auth-challenge instruction_id',
  'post /relay/send/security-alert instruction_id',
  'post /relay/provision/operator email',
  'post /relay/provision/operator backend_user_id',
  'post /relay/mint/visitor-token visitor_user_id',
  'post /device/register-token tenant_id',
  'post /relay/sudo/dispatch instruction_id',
  'post /relay/sudo/dispatch tenant_id',
  // Validated as B's own links or groups before any lookup (422, naming positions, never values).
  'post /relay/sudo/create/group member_relay_user_linked_ids',
  'post /relay/sudo/update/group member_relay_user_linked_ids',
  'post /relay/sudo/create/delegation-grant relay_user_linked_id_list',
  'post /relay/sudo/create/delegation-grant relay_group_linked_id',
  // A passkey ceremony checks its challenge (B's own, 410 for any other) before the user it names.
  'post /relay/webauthn/register/verify relay_user_linked_id',
  'post /relay/webauthn/authenticate/verify relay_user_linked_id',
  'post /relay/webauthn/register/options backend_user_id',
]);

/** Top-level fields of a route's query or body schema, from its JSON Schema (what the reference documents). */
function fieldsOf(schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
  return Object.keys(json.properties ?? {});
}

const SCOPED = new Set(['hmac', 'device', 'operator', 'visitor']);
const ORIGIN = 'https://shop.example.com';
let ringOfRelay: KeyRing | null = null;
const relayRing = (): KeyRing => {
  if (!ringOfRelay) throw new Error('the relay is not started');
  return ringOfRelay;
};
const key = (r: AnyRoute) => `${r.method} ${r.path}`;

type Pair = { route: AnyRoute; field: string; kind: string; lookup: boolean };

/** Every (tenant-scoped route, id field) pair; throws for a field that is neither a known id nor known not to be one. */
function generatePairs(routes: AnyRoute[]): { pairs: Pair[]; noIdRoutes: AnyRoute[] } {
  const pairs: Pair[] = [];
  const noIdRoutes: AnyRoute[] = [];
  for (const route of routes.filter((r) => SCOPED.has(r.security))) {
    const fields = [...fieldsOf(route.query), ...fieldsOf(route.body)];
    const unknown = fields.filter((f) => !(f in ID_FIELDS) && !NOT_IDS.has(f));
    if (unknown.length) {
      throw new Error(
        `isolation matrix: ${key(route)} has fields the generator does not know (${unknown.join(', ')}): add each to ID_FIELDS (with its kind) or NOT_IDS in test/platform/isolation-matrix.test.ts`,
      );
    }
    const ids = fields.filter((f) => f in ID_FIELDS);
    if (ids.length === 0) noIdRoutes.push(route);
    for (const field of ids)
      pairs.push({
        route,
        field,
        kind: KIND_OF[`${key(route)} ${field}`] ?? ID_FIELDS[field]!,
        lookup: !OWN_NAMESPACE.has(`${key(route)} ${field}`),
      });
  }
  return { pairs, noIdRoutes };
}

type World = {
  a: Record<string, string>; // id kind → A's value
  bCreds: TenantCreds;
  bDevice: DeviceClient;
  bOperatorToken: string;
  bVisitorToken: string;
  b: Record<string, string>; // B's own valid values
};

const random: Record<string, () => string> = {
  'user hash': () => `ush_${randomBytes(8).toString('hex')}`,
  device: () => newId('dev'),
  instruction: () => `ins-${randomBytes(6).toString('hex')}`,
  'approval request': () => newId('chg'),
  operator: () => newId('op'),
  'operator email': () => `${randomBytes(5).toString('hex')}@example.com`,
  'visitor session': () => newId('vs'),
  conversation: () => newId('cnv'),
  ticket: () => newId('tkt'),
  tenant: () => newTenantId(),
  'visitor user': () => `vu-${randomBytes(6).toString('hex')}`,
  'backend user': () => `bu-${randomBytes(6).toString('hex')}`,
  'relay user link': () => randomBytes(12).toString('hex'),
  'relay user link (list)': () => randomBytes(12).toString('hex'),
  'approver group': () => newId('grp'),
  'approver group (list)': () => newId('grp'),
  'sudo event': () => newId('sud'),
  'delegation grant': () => newId('dgr'),
  passkey: () => randomBytes(16).toString('base64url'),
  'qr session': () => newId('qr'),
  // A code the relay signed, for a session of a tenant that does not exist: the same format as A's.
  'qr code': () =>
    makeQrCode(relayRing(), {
      sid: newId('qr'),
      tid: newTenantId(),
      tenant_name: 'x',
      origin: ORIGIN,
      iat: 0,
      exp: Math.floor(Date.now() / 1000) + 60,
    }).code,
};

/** A valid value for B of every field a route may need; the field under test is then replaced. */
function baseInput(route: AnyRoute, w: World): Record<string, unknown> {
  const fresh = () => `ins-${randomBytes(6).toString('hex')}`;
  const all: Record<string, unknown> = {
    user_socket_hash: w.b['user hash'],
    device_id: w.b.device,
    instruction_id: route.path === '/relay/fetch/delivery-status' ? w.b.instruction : fresh(),
    request_id: w.b['approval request'],
    operator_id: w.b.operator,
    session_id: w.b['visitor session'],
    conversation_id: w.b.conversation,
    ticket_id: w.b.ticket,
    visitor_user_id: random['visitor user']!(),
    backend_user_id: random['backend user']!(),
    note: 'isolation',
    display_name: 'B user',
    user_email: 'b@example.com',
    custom_type: 'localAuth',
    expected_action: 'login',
    title: 'Alert',
    body: 'Something happened',
    decision: 'deny',
    timestamp: Date.now(),
    signature: 'A'.repeat(86),
    sender_type: 'system',
    text: 'hello',
    on: true,
    relay_user_linked_id: w.b['relay user link'],
    // A valid sudo dispatch of B's own, asking B's user; the field under test replaces one part.
    event_type: 'sudo_action',
    action_type: 'update',
    data_access_type: 'static',
    data_items: [{ key: 'amount', title: 'Amount', value: '10', data_type: 'CURRENCY_EUR' }],
    relay_user_linked_id_list: [w.b['relay user link']],
    group_id: w.b['approver group'],
    event_id: w.b['sudo event'],
    grant_id: w.b['delegation grant'],
    credential_id: w.b.passkey,
    browser_origin: ORIGIN,
    username: 'b-user',
    name: 'renamed',
    member_relay_user_linked_ids: [w.b['relay user link']],
    threshold: 1,
    grantee_tenant_id: w.a.tenant,
    response: '123456',
  };
  const fields = [...fieldsOf(route.query), ...fieldsOf(route.body)];
  const input: Record<string, unknown> = {};
  for (const f of fields) if (f in all) input[f] = all[f];
  const oneOperator = route.path === '/relay/mint/operator-token' || route.path === '/relay/deprovision/operator';
  if (oneOperator) delete input.operator_id; // exactly one of operator_id / email
  if (route.path === '/relay/provision/operator' || oneOperator) input.email ??= `${randomBytes(5).toString('hex')}@example.com`;
  if (route.path === '/relay/sudo/create/group') input.name = 'B group';
  if (route.path === '/relay/sudo/update/group') delete input.member_relay_user_linked_ids;
  if (route.path === '/relay/sudo/fetch/event') delete input.instruction_id; // exactly one of event_id / instruction_id
  if (route.path.startsWith('/relay/webauthn/')) delete input.backend_user_id;
  return input;
}

async function send(route: AnyRoute, input: Record<string, unknown>, w: World, baseUrl: string) {
  const isGet = route.method === 'get';
  const qs = isGet ? `?${new URLSearchParams(Object.entries(input).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
  const body = isGet ? undefined : input;
  switch (route.security) {
    case 'hmac':
      return signed(baseUrl, w.bCreds, route.method.toUpperCase(), `${route.path}${qs}`, body);
    case 'operator':
      return call(baseUrl, route.method.toUpperCase(), `/api/v1${route.path}${qs}`, {
        headers: { Authorization: `Bearer ${w.bOperatorToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    case 'visitor':
      return call(baseUrl, route.method.toUpperCase(), `/api/v1${route.path}`, { headers: { Authorization: `Bearer ${w.bVisitorToken}` } });
    case 'device': {
      if (route.path === '/device/register-token') {
        const fresh = DeviceClient.create(baseUrl);
        const proof = await prepareProof(baseUrl, w.bCreds, w.b['user hash']!);
        return fresh.request(
          'POST',
          route.path,
          { public_key: fresh.state.publicJwk, platform: 'cli', device_name: 'x', ...input },
          { bearer: proof },
        );
      }
      return w.bDevice.request(route.method.toUpperCase() as 'GET' | 'POST', `${route.path}${qs}`, body);
    }
    default:
      throw new Error(`no sender for ${route.security}`);
  }
}

const withoutRequestId = (body: any) => {
  const copy = JSON.parse(JSON.stringify(body ?? null));
  if (copy?.error) delete copy.error.request_id;
  return copy;
};

describe('tenant isolation matrix (generated from the route table)', function () {
  this.timeout(180_000);
  let relay: Relay;
  let bot: Receiver;
  let w: World;
  const aIds: string[] = [];

  // The generator, before any request: every field of every tenant-scoped route is classified.
  const { pairs, noIdRoutes } = generatePairs(ROUTES);

  it('the generator refuses a route with a field it does not know', () => {
    const route = {
      method: 'get',
      path: '/relay/fetch/widget',
      security: 'hmac',
      query: z.object({ widget_id: z.string() }),
    } as unknown as AnyRoute;
    assert.throws(() => generatePairs([route]), /get \/relay\/fetch\/widget has fields the generator does not know \(widget_id\)/);
  });

  before(async () => {
    relay = await startRelay('isolation');
    bot = await new Receiver().start();
    ringOfRelay = relay.config.secretsMasterKey;
    const tenant = {
      rate_limit_per_min: 10_000,
      allowed_origins: [ORIGIN],
      bot_webhook_url: `${bot.url}/bot`,
      qr_login_allowed_origins: [ORIGIN],
      webauthn_rp_id: 'shop.example.com',
      webauthn_origins: [ORIGIN],
    };
    const aCreds = await provision(relay.baseUrl, tenant);
    const bCreds = await provision(relay.baseUrl, tenant);

    // Each tenant: a paired user and device, a challenge, an operator, a visitor session, a
    // conversation escalated to a ticket, and a second conversation in the queue.
    async function populate(creds: TenantCreds) {
      const v: Record<string, string> = {};
      v['user hash'] = `ush_${randomBytes(8).toString('hex')}`;
      const device = await pairDevice(relay.baseUrl, creds, v['user hash']);
      v.device = device.state.deviceId!;
      v.instruction = `ins-${randomBytes(6).toString('hex')}`;
      const ch = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', {
        user_socket_hash: v['user hash'],
        instruction_id: v.instruction,
        custom_type: 'localAuth',
        expected_action: 'login',
      });
      assert.ok([200, 202].includes(ch.status), JSON.stringify(ch.body));
      v['approval request'] = ch.body.data.request_id;
      // Values that B's own-namespace calls reuse (B then owns one too) are kept apart from those the lookups use.
      v['instruction (alert)'] = `ins-${randomBytes(6).toString('hex')}`;
      v['instruction (challenge)'] = `ins-${randomBytes(6).toString('hex')}`;
      v['instruction (sudo)'] = `ins-${randomBytes(6).toString('hex')}`;
      const second = await signed(relay.baseUrl, creds, 'POST', '/relay/send/auth-challenge', {
        user_socket_hash: v['user hash'],
        instruction_id: v['instruction (challenge)'],
        custom_type: 'localAuth',
        expected_action: 'login',
      });
      assert.ok([200, 202].includes(second.status), JSON.stringify(second.body));
      const alert = await signed(relay.baseUrl, creds, 'POST', '/relay/send/security-alert', {
        user_socket_hash: v['user hash'],
        instruction_id: v['instruction (alert)'],
        title: 'A',
        body: 'a',
      });
      assert.ok([200, 202].includes(alert.status), JSON.stringify(alert.body));
      v['operator email'] = `${randomBytes(5).toString('hex')}@example.com`;
      const op = await provisionOperator(relay.baseUrl, creds, v['operator email']);
      v.operator = op.id;
      v['operator email (provision)'] = `${randomBytes(5).toString('hex')}@example.com`;
      await provisionOperator(relay.baseUrl, creds, v['operator email (provision)']);
      v['visitor user'] = `vu-${randomBytes(6).toString('hex')}`;
      const minted = await signed(relay.baseUrl, creds, 'POST', '/relay/mint/visitor-token', { visitor_user_id: v['visitor user'] });
      assert.equal(minted.status, 201, JSON.stringify(minted.body));
      v['visitor session (minted)'] = minted.body.data.session_id;
      const s = await createSession(relay.baseUrl, creds, ORIGIN, { mode: 'bot' });
      assert.equal(s.status, 201, JSON.stringify(s.body));
      v['visitor session'] = s.sessionId;
      const conv = await signed(relay.baseUrl, creds, 'POST', '/relay/create/conversation', { session_id: s.sessionId });
      assert.equal(conv.status, 201, JSON.stringify(conv.body));
      v.conversation = conv.body.data.conversation.id ?? conv.body.data.conversation.conversation_id;
      const esc = await signed(relay.baseUrl, creds, 'POST', '/relay/escalate/conversation', { conversation_id: v.conversation });
      assert.equal(esc.status, 200, JSON.stringify(esc.body));
      const detail = await signed(relay.baseUrl, creds, 'GET', `/relay/fetch/conversation?conversation_id=${v.conversation}`);
      v.ticket = detail.body.data.ticket.id ?? detail.body.data.ticket.ticket_id;
      v.tenant = creds.tenantId;
      // A backend user only this tenant has (its pairings above all use the seed's id, as both tenants' do).
      v['backend user'] = `bu-${randomBytes(6).toString('hex')}`;
      v['backend user (own)'] = `bu-${randomBytes(6).toString('hex')}`;
      const opts = await signed(relay.baseUrl, creds, 'POST', '/relay/webauthn/register/options', {
        backend_user_id: v['backend user'],
        username: 'u',
        display_name: 'U',
        browser_origin: ORIGIN,
      });
      assert.equal(opts.status, 200, JSON.stringify(opts.body));
      // Sudo: the user's link, a group of it, an event asking it, a grant of it to the other tenant (set below).
      v['relay user link'] = String(device.state.pairing?.relay_user_linked_id);
      v['relay user link (list)'] = String(device.state.pairing?.relay_user_linked_id);
      const group = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/create/group', {
        name: 'G',
        member_relay_user_linked_ids: [v['relay user link']],
        threshold: 1,
      });
      assert.equal(group.status, 201, JSON.stringify(group.body));
      v['approver group'] = group.body.data.group_id;
      v['approver group (list)'] = group.body.data.group_id;
      const sudo = await signed(relay.baseUrl, creds, 'POST', '/relay/sudo/dispatch', {
        event_type: 'sudo_action',
        action_type: 'update',
        instruction_id: `ins-${randomBytes(6).toString('hex')}`,
        expected_action: 'transfer',
        title: 'Transfer',
        relay_user_linked_id_list: [v['relay user link']],
        data_access_type: 'static',
        data_items: [{ key: 'amount', title: 'Amount', value: '10', data_type: 'CURRENCY_EUR' }],
      });
      assert.equal(sudo.status, 201, JSON.stringify(sudo.body));
      v['sudo event'] = sudo.body.data.event_id;
      // A passkey, stored as register/verify stores one (the ceremony itself is tested in test/auth/passkeys*).
      v.passkey = randomBytes(16).toString('base64url');
      await PasskeyModel.create({
        _id: passkeyDocId(creds.tenantId, v.passkey),
        tenant_id: creds.tenantId,
        relay_user_linked_id: v['relay user link'],
        backend_user_id: '507f1f77bcf86cd799439011',
        credential_id: v.passkey,
        public_key: Buffer.from('unused').toString('base64url'),
        sign_count: 0,
        transports: [],
        device_type: 'singleDevice',
        backed_up: false,
        user_verified_at_registration: true,
        rp_id: 'shop.example.com',
        origin: ORIGIN,
        name: 'key',
      });
      // QR login: a session and its code.
      const qr = await signed(relay.baseUrl, creds, 'POST', '/relay/qr-login/initiate', { browser_origin: ORIGIN });
      assert.equal(qr.status, 200, JSON.stringify(qr.body));
      v['qr session'] = qr.body.data.session_id;
      v['qr code'] = qr.body.data.qr_code_str;
      return { v, device, opToken: op.token, visitorToken: s.token };
    }
    const A = await populate(aCreds);
    const B = await populate(bCreds);
    // Each tenant grants the other its user: the grant ids exist on both sides.
    for (const [v, grantor, grantee] of [
      [A.v, aCreds, bCreds],
      [B.v, bCreds, aCreds],
    ] as const) {
      const g = await signed(relay.baseUrl, grantor, 'POST', '/relay/sudo/create/delegation-grant', {
        grantee_tenant_id: grantee.tenantId,
        relay_user_linked_id_list: [v['relay user link']],
      });
      assert.equal(g.status, 201, JSON.stringify(g.body));
      v['delegation grant'] = g.body.data.grant_id;
    }
    for (const [kind, value] of Object.entries(A.v)) if (!['backend user', 'tenant'].includes(kind)) aIds.push(value);
    aIds.push(aCreds.tenantId);
    w = { a: A.v, b: B.v, bCreds, bDevice: B.device, bOperatorToken: B.opToken, bVisitorToken: B.visitorToken };
    for (const kind of Object.keys(random)) assert.ok(A.v[kind], `tenant A has a ${kind}`);
  });
  after(async () => {
    await bot?.stop();
    await relay?.stop();
  });

  it('every (tenant-scoped route, id field) pair: A’s id answers B exactly as a random id, 404 for lookups; no answer holds A’s ids', async () => {
    const lines: string[] = [];
    for (const { route, field, kind, lookup } of pairs) {
      // An own-namespace call leaves B owning that value: those calls get A's values that no lookup uses.
      const aValue =
        (<Record<string, string | undefined>>{
          'post /relay/send/security-alert instruction_id': w.a['instruction (alert)'],
          'post /relay/send/auth-challenge instruction_id': w.a['instruction (challenge)'],
          'post /relay/provision/operator email': w.a['operator email (provision)'],
          'post /relay/sudo/dispatch instruction_id': w.a['instruction (sudo)'],
          'post /relay/prepare-pairing backend_user_id': w.a['backend user (own)'],
          'post /relay/provision/operator backend_user_id': w.a['backend user (own)'],
          'post /relay/webauthn/register/options backend_user_id': w.a['backend user (own)'],
        })[`${key(route)} ${field}`] ?? w.a[kind];
      const base = () => {
        const input = baseInput(route, w);
        // Exactly one of operator_id / email: the one under test.
        if (route.path === '/relay/mint/operator-token' || route.path === '/relay/deprovision/operator')
          delete input[field === 'email' ? 'operator_id' : 'email'];
        return input;
      };
      const wrap = (v: unknown) => (LIST_KINDS.has(kind) ? [v] : v);
      const baseFor = () => {
        const b = base();
        if (route.path === '/relay/sudo/fetch/event') delete b[field === 'event_id' ? 'instruction_id' : 'event_id'];
        // A passkey route names its user one way: by link, or by backend_user_id (the one under test).
        if (route.path.startsWith('/relay/webauthn/') && field === 'backend_user_id') delete b.relay_user_linked_id;
        return b;
      };
      const withA = { ...baseFor(), [field]: wrap(aValue) };
      const withRandom = { ...baseFor(), [field]: wrap(random[kind]!()) };
      const ra = await send(route, withA, w, relay.baseUrl);
      const rr = await send(route, withRandom, w, relay.baseUrl);
      const label = `${key(route)} ${field} (${kind})`;
      assert.equal(
        ra.status,
        rr.status,
        `${label}: A's id → ${ra.status} ${JSON.stringify(ra.body)}; random → ${rr.status} ${JSON.stringify(rr.body)}`,
      );
      if (lookup) {
        assert.equal(ra.status, MISSING_STATUS[`${key(route)} ${field}`] ?? 404, `${label}: ${JSON.stringify(ra.body)}`);
        assert.deepEqual(withoutRequestId(ra.body), withoutRequestId(rr.body), label);
      } else if (ra.body?.success === false) {
        assert.equal(ra.body.error.code, rr.body.error.code, label);
      }
      const text = JSON.stringify(ra.body);
      // (An own-namespace answer may echo the value B sent, e.g. an instruction_id; nothing else of A's.)
      for (const id of aIds) if (id !== aValue || lookup) assert.ok(!text.includes(id), `${label}: the answer holds A's ${id}`);
      lines.push(`${label} → ${ra.status}`);
    }
    const routes = new Set(pairs.map((p) => key(p.route))).size;
    console.log(
      `      isolation matrix: ${pairs.length} (route, id kind) pairs checked on ${routes} routes (${pairs.filter((p) => p.lookup).length} lookups answering 404, ${pairs.filter((p) => !p.lookup).length} own-namespace fields), kinds: ${[...new Set(pairs.map((p) => p.kind))].join(', ')}`,
    );
    assert.ok(pairs.length >= 25, `pairs: ${pairs.length}`);
  });

  it('routes without an id field list none of A’s objects to B', async () => {
    for (const route of noIdRoutes) {
      if (route.path === '/device/unpair' || route.path === '/device/refresh-token' || route.path === '/refresh/visitor-token') continue; // B's own credential changes; they carry no other object
      const r = await send(route, baseInput(route, w), w, relay.baseUrl);
      const text = JSON.stringify(r.body);
      // The grants B received name what A chose to share with B: A's tenant and the user A granted.
      const shared =
        route.path === '/relay/sudo/fetch/delegation-grants' ? [w.a.tenant, w.a['relay user link'], w.a['delegation grant']] : [];
      for (const id of aIds) if (!shared.includes(id)) assert.ok(!text.includes(id), `${key(route)}: holds A's ${id}`);
    }
    console.log(
      `      isolation matrix: ${noIdRoutes.length} routes without an id field checked for A's ids (${noIdRoutes.map(key).join(', ')})`,
    );
  });
});
