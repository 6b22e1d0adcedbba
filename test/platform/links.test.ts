/** relay_user links (docs/contract.md §1.3): one link per (tenant, backend user), isolated between tenants. */
import assert from 'node:assert/strict';
import {
  RelayUserLinkModel,
  findRelayUserLink,
  findRelayUserLinkByBackendUser,
  upsertRelayUserLink,
} from '../../models/platform/relay-user-link.js';
import { startRelay, type Relay } from '../support/harness.js';
import { provision } from '../support/client.js';
import { provenTenantId } from '../../models/platform/tenant-id.js';

describe('platform: relay_user links', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay('links');
  });
  after(async () => relay.stop());

  it('is idempotent per tenant and backend user, even under concurrent upserts', async () => {
    const t = await provision(relay.baseUrl);
    const links = await Promise.all([1, 2, 3, 4].map(() => upsertRelayUserLink(provenTenantId(t.tenantId), 'user-42', 'pairing')));
    const ids = new Set(links.map((l) => String(l._id)));
    assert.equal(ids.size, 1);
    const [id] = [...ids];
    assert.match(id ?? '', /^[0-9a-f]{24}$/);
    const again = await upsertRelayUserLink(provenTenantId(t.tenantId), 'user-42', 'operator', 'Jane');
    assert.equal(String(again._id), id);
    assert.deepEqual([...again.sources].sort(), ['operator', 'pairing']);
    // The unique index behind that idempotence is really there (built before serving, not lazily).
    await assert.rejects(
      RelayUserLinkModel.create({ tenant_id: t.tenantId, backend_user_id: 'user-42' }),
      (err: { code?: number }) => err.code === 11000,
    );
  });

  it('links the same person to two tenants with two unrelated ids, each invisible to the other tenant', async () => {
    const a = await provision(relay.baseUrl);
    const b = await provision(relay.baseUrl);
    const la = await upsertRelayUserLink(provenTenantId(a.tenantId), 'same-user', 'pairing');
    const lb = await upsertRelayUserLink(provenTenantId(b.tenantId), 'same-user', 'pairing');
    assert.notEqual(String(la._id), String(lb._id));
    assert.equal(String((await findRelayUserLink(provenTenantId(a.tenantId), String(la._id)))?._id), String(la._id));
    assert.equal(await findRelayUserLink(provenTenantId(b.tenantId), String(la._id)), null, "B cannot read A's link by id");
    assert.equal(await findRelayUserLink(provenTenantId(a.tenantId), 'not-an-id'), null);
    assert.equal(String((await findRelayUserLinkByBackendUser(provenTenantId(b.tenantId), 'same-user'))?._id), String(lb._id));
  });
});
