/**
 * Tenant isolation as a type (models/platform/tenant-id.ts): the data modules that api/ calls take a
 * proven TenantId first. The checks that matter are compile-time: each `@ts-expect-error` below fails
 * `tsc --noEmit` the day the call it marks compiles (a finder without a tenant, or with a bare string).
 * Runs without services: nothing here reaches MongoDB.
 */
import assert from 'node:assert/strict';
import { findGroup, groupsOf } from '../../models/auth/approver-group.js';
import { changeGroup, removeGroup } from '../../models/auth/approver-group-data.js';
import { grantsOf } from '../../models/auth/delegation-grant.js';
import { revokeGivenGrant } from '../../models/auth/delegation-grant-data.js';
import { devicesOfPairing, findUserDevice } from '../../models/auth/device-data.js';
import { findRequestByInstruction, pushDeliveriesOf } from '../../models/auth/approval-request.js';
import { activeDevicesOfUser } from '../../models/auth/device.js';
import { findPairing, findPairingById, pairingsOfLink } from '../../models/auth/pairing.js';
import { findPasskey, passkeysOfUser, renamePasskey, revokePasskey } from '../../models/auth/passkey.js';
import { conversationOfTenant, ticketOfTenant } from '../../models/chat/conversation-data.js';
import { operatorOfTenant } from '../../models/chat/operator-data.js';
import { findOperator, listOperators } from '../../models/chat/operator.js';
import { deprovisionOperator, updateOperator } from '../../models/chat/operator-lifecycle.js';
import { sessionOfTenant } from '../../models/chat/visitor-session-data.js';
import { findRelayUserLink, findRelayUserLinkByBackendUser, upsertRelayUserLink } from '../../models/platform/relay-user-link.js';
import { provenTenantId, type TenantId } from '../../models/platform/tenant-id.js';

/** Never called: only type-checked. */
export function _tenantIsRequired(tenant: TenantId, fromRequest: string, deps: Parameters<typeof updateOperator>[0]): void {
  void devicesOfPairing(tenant, 'prg_1');
  void conversationOfTenant(tenant, 'cnv_1');
  // @ts-expect-error a tenant id read from a request is a string, not a proven TenantId
  void devicesOfPairing(fromRequest, 'prg_1');
  // @ts-expect-error the tenant cannot be left out
  void findUserDevice('ush_1', 'dev_1');
  // @ts-expect-error a bare string is not a tenant
  void conversationOfTenant('tnt_000000000000000000000000', 'cnv_1');
  // @ts-expect-error the tenant cannot be left out
  void ticketOfTenant('tkt_1');
  // @ts-expect-error a bare string is not a tenant
  void sessionOfTenant(fromRequest, 'vs_1');
  // @ts-expect-error a bare string is not a tenant
  void operatorOfTenant(fromRequest, { email: 'a@example.test' });
  // @ts-expect-error a bare string is not a tenant
  void changeGroup(fromRequest, 'grp_1', {});
  // @ts-expect-error the tenant cannot be left out
  void removeGroup('grp_1');
  // @ts-expect-error a bare string is not a tenant
  void groupsOf(fromRequest);
  // @ts-expect-error a bare string is not a tenant
  void grantsOf(fromRequest);
  // @ts-expect-error a bare string is not a grantor
  void revokeGivenGrant(fromRequest, 'dgr_1');
  void findPairing(tenant, 'ush_1');
  void findRelayUserLink(tenant, 'lnk_1');
  // @ts-expect-error a bare string is not a tenant
  void findPairing(fromRequest, 'ush_1');
  // @ts-expect-error a bare string is not a tenant
  void findPairingById(fromRequest, 'prg_1');
  // @ts-expect-error a bare string is not a tenant
  void pairingsOfLink(fromRequest, 'lnk_1');
  // @ts-expect-error a bare string is not a tenant
  void findRelayUserLink(fromRequest, 'lnk_1');
  // @ts-expect-error the tenant cannot be left out
  void findRelayUserLinkByBackendUser('user-42');
  // @ts-expect-error a bare string is not a tenant
  void findPasskey(fromRequest, 'cred_1');
  // @ts-expect-error a bare string is not a tenant
  void passkeysOfUser(fromRequest, 'lnk_1');
  // @ts-expect-error a bare string is not a tenant
  void renamePasskey(fromRequest, 'lnk_1', 'cred_1', 'Laptop');
  // @ts-expect-error a bare string is not a tenant
  void revokePasskey(fromRequest, 'lnk_1', 'cred_1');
  // @ts-expect-error a bare string is not a tenant
  void listOperators(fromRequest, { limit: 50, offset: 0 });
  // @ts-expect-error a bare string is not a tenant
  void findOperator(fromRequest, 'op_1');
  // @ts-expect-error a bare string is not a tenant
  void upsertRelayUserLink(fromRequest, 'user-42', 'passkey');
  // @ts-expect-error a bare string is not a tenant
  void activeDevicesOfUser(fromRequest, 'ush_1');
  // @ts-expect-error a bare string is not a tenant
  void findGroup(fromRequest, 'grp_1');
  // @ts-expect-error a bare string is not a tenant
  void findRequestByInstruction(fromRequest, 'ins_1');
  // @ts-expect-error a bare string is not a tenant
  void pushDeliveriesOf(fromRequest, 'apr_1');
  // @ts-expect-error a bare string is not a tenant
  void updateOperator(deps, fromRequest, 'op_1', {});
  // @ts-expect-error a bare string is not a tenant
  void deprovisionOperator(deps, fromRequest, { operator_id: 'op_1' });
}

describe('TenantId', () => {
  it('is the id itself at run time: the brand costs nothing', () => {
    const id = provenTenantId('tnt_000000000000000000000000');
    assert.equal(id, 'tnt_000000000000000000000000');
    assert.equal(typeof id, 'string');
  });
});
