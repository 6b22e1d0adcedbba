/**
 * What a grantee organisation cannot do to the grantor's people (issue 20): flood them with prompts
 * (one push-fatigue budget per person, shared by every route and tenant: 429 with Retry-After), or
 * lower the quorum of the grantor's approver group it was lent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DeviceClient } from '../../scripts/device.js';
import { provision, signed, type TenantCreds } from '../support/client.js';
import { startRelay, type Relay } from '../support/harness.js';
import { challengeBody, newUserHash, pairDevice } from './support.js';

type Person = { hash: string; link: string; device: DeviceClient };

const FATIGUE_MAX = 3;

describe('auth relay: limits on a grantee (push fatigue through sudo, group threshold)', function () {
  this.timeout(60_000);
  let relay: Relay;
  let grantor: TenantCreds;
  let grantee: TenantCreds;

  before(async () => {
    // A day-long window: the test never straddles a window edge.
    relay = await startRelay('sudo-limits', { PUSH_FATIGUE_MAX: String(FATIGUE_MAX), PUSH_FATIGUE_WINDOW_SECONDS: '86400' });
    grantor = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, branding_display_name: 'Grantor Bank' });
    grantee = await provision(relay.baseUrl, { rate_limit_per_min: 10_000, branding_display_name: 'Partner Co' });
  });
  after(async () => relay?.stop());

  async function person(c: TenantCreds): Promise<Person> {
    const hash = newUserHash();
    const device = await pairDevice(relay.baseUrl, c, hash, { backendUserId: `user-${randomBytes(5).toString('hex')}` });
    return { hash, link: String(device.state.pairing?.relay_user_linked_id), device };
  }

  const dispatchBody = (extra: Record<string, unknown>) => ({
    event_type: 'sudo_delegated_action',
    grantor_tenant_id: grantor.tenantId,
    action_type: 'update',
    instruction_id: `ins-${randomBytes(6).toString('hex')}`,
    expected_action: 'transfer_funds',
    title: 'Confirm the transfer',
    data_access_type: 'static',
    data_items: [{ key: 'amount', title: 'Amount', value: '120.00', data_type: 'CURRENCY_EUR' }],
    ttl_seconds: 120,
    ...extra,
  });
  const dispatch = (extra: Record<string, unknown>) => signed(relay.baseUrl, grantee, 'POST', '/relay/sudo/dispatch', dispatchBody(extra));

  it("push fatigue: a grantee flooding sudo dispatches gets 429 with Retry-After, and the grantor's own challenges share the budget", async () => {
    const victim = await person(grantor);
    const bystander = await person(grantor);
    const grant = await signed(relay.baseUrl, grantor, 'POST', '/relay/sudo/create/delegation-grant', {
      grantee_tenant_id: grantee.tenantId,
      relay_user_linked_id_list: [victim.link, bystander.link],
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));

    const statuses: number[] = [];
    let last;
    for (let i = 0; i < FATIGUE_MAX + 2; i++) {
      last = await dispatch({ relay_user_linked_id_list: [victim.link] });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [...Array<number>(FATIGUE_MAX).fill(201), 429, 429], JSON.stringify(last?.body));
    assert.equal(last!.body.success, false);
    assert.equal(last!.body.error.code, 'RATE_LIMITED', 'the error envelope names the limit');
    const retryAfter = Number(last!.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 86_400, `Retry-After: ${last!.headers.get('retry-after')}`);

    // The person's devices saw only the prompts within the budget.
    const open = (await victim.device.poll()).body.data.requests.filter((r: any) => r.kind === 'sudo');
    assert.equal(open.length, FATIGUE_MAX);

    // One budget per person, whichever tenant and route: the grantor's own challenge is refused too…
    const own = await signed(relay.baseUrl, grantor, 'POST', '/relay/send/auth-challenge', challengeBody(victim.hash));
    assert.equal(own.status, 429, JSON.stringify(own.body));
    assert.equal(own.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(own.headers.get('retry-after')) >= 1);
    // …a quorum naming the flooded person is refused whole, and takes nothing from the other person…
    const quorum = await dispatch({ relay_user_linked_id_list: [victim.link, bystander.link], threshold: 1 });
    assert.equal(quorum.status, 429, JSON.stringify(quorum.body));
    // …while another person keeps their own budget (challenges count against it as dispatches do).
    for (let i = 0; i < FATIGUE_MAX - 1; i++) {
      const c = await signed(relay.baseUrl, grantor, 'POST', '/relay/send/auth-challenge', challengeBody(bystander.hash));
      assert.equal(c.status, 200, JSON.stringify(c.body));
    }
    assert.equal((await dispatch({ relay_user_linked_id_list: [bystander.link] })).status, 201);
    assert.equal((await dispatch({ relay_user_linked_id_list: [bystander.link] })).status, 429);
  });

  it("a grantee cannot lower the quorum of the grantor's group it was lent (422); it may keep or raise it", async () => {
    const [a, b, c] = [await person(grantor), await person(grantor), await person(grantor)];
    const group = await signed(relay.baseUrl, grantor, 'POST', '/relay/sudo/create/group', {
      name: 'Treasury',
      member_relay_user_linked_ids: [a.link, b.link, c.link],
      threshold: 2,
    });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    const groupId = group.body.data.group_id as string;
    const grant = await signed(relay.baseUrl, grantor, 'POST', '/relay/sudo/create/delegation-grant', {
      grantee_tenant_id: grantee.tenantId,
      relay_group_linked_id: groupId,
    });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));

    const lowered = await dispatch({ relay_group_linked_id_list: [groupId], threshold: 1 });
    assert.equal(lowered.status, 422, `a grantee lowered the grantor's threshold: ${JSON.stringify(lowered.body)}`);
    assert.equal(lowered.body.error.code, 'VALIDATION_FAILED');
    assert.ok(
      lowered.body.error.details.some((d: string) => d.startsWith('threshold:')),
      JSON.stringify(lowered.body),
    );

    const kept = await dispatch({ relay_group_linked_id_list: [groupId] });
    assert.equal(kept.status, 201, JSON.stringify(kept.body));
    assert.match(kept.body.message, /2 approval\(s\) needed/);
    const raised = await dispatch({ relay_group_linked_id_list: [groupId], threshold: 3 });
    assert.equal(raised.status, 201, JSON.stringify(raised.body));
    assert.match(raised.body.message, /3 approval\(s\) needed/);
  });
});
