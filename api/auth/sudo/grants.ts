/**
 * Delegation grants (docs/contract.md §2.4, decided): the grantor (this tenant) lets the grantee ask the grantor's
 * named users, or one of its groups, to approve the grantee's sudo_delegated_actions. Only the
 * grantor creates and revokes; each side lists only its half.
 */
import { z } from 'zod';
import { findGroup } from '../../../models/auth/approver-group.js';
import { grantsOf, type DelegationGrantDoc } from '../../../models/auth/delegation-grant.js';
import { insertGrant, revokeGivenGrant } from '../../../models/auth/delegation-grant-data.js';
import { findRelayUserLink } from '../../../models/platform/relay-user-link.js';
import { ApiError, notFound } from '../../errors.js';
import { defineRoute, type RequestBody, type ResponseData } from '../../route.js';
import { SUDO_TAGS, groupId, linkId, publicGrant, tenantIdField } from './schemas.js';
import { fieldRules } from '../../schemas.js';

const grantId = z.string().regex(/^dgr_[0-9a-z]{26}$/, 'must be a delegation grant id (dgr_…)');

function toPublicGrant(g: DelegationGrantDoc): z.infer<typeof publicGrant> {
  return {
    grant_id: g._id,
    grantor_tenant_id: g.grantor_tenant_id,
    grantee_tenant_id: g.grantee_tenant_id,
    relay_user_linked_ids: [...g.relay_user_linked_ids],
    relay_group_linked_id: g.relay_group_linked_id ?? null,
    status: g.status,
    created_at: g.created_at.toISOString(),
    revoked_at: g.revoked_at?.toISOString() ?? null,
  };
}

export const createGrant = defineRoute({
  method: 'post',
  path: '/relay/sudo/create/delegation-grant',
  summary: 'Let another tenant ask some of your users to approve its actions',
  description:
    'You (the grantor) let `grantee_tenant_id` dispatch `sudo_delegated_action`s to the relay_user links listed, and/or the members of one of your groups. Their devices show which organisation asks. 422 for a grant to yourself; the grantee learns nothing else about your users.',
  errors: { 404: 'The grantee tenant, a relay_user link or the group is not found (not yours); details name which.' },
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z
    .object({
      grantee_tenant_id: tenantIdField,
      relay_user_linked_id_list: z.array(linkId).max(100).default([]),
      relay_group_linked_id: groupId.optional(),
    })
    .strict()
    .refine((b) => b.relay_user_linked_id_list.length > 0 || b.relay_group_linked_id, {
      message: 'give relay_user_linked_id_list and/or relay_group_linked_id',
      path: ['relay_user_linked_id_list'],
    })
    .meta({ anyOf: [fieldRules.nonEmpty('relay_user_linked_id_list'), { required: ['relay_group_linked_id'] }] }),
  response: publicGrant,
  successStatus: 201,
  handler: async (_ctx, { body, deps, principal }) => {
    const grantor = principal.tenant.id;
    // A grant to yourself is malformed for this caller (422); a well-formed id that names nothing
    // here is a lookup that found nothing (404), as everywhere else.
    if (body.grantee_tenant_id === grantor)
      throw new ApiError('VALIDATION_FAILED', 'The request body failed validation.', ['grantee_tenant_id: must be another tenant']);
    const problems: string[] = [];
    if (!(await deps.tenants.get(body.grantee_tenant_id))) problems.push('grantee_tenant_id: no such tenant');
    const links = [...new Set(body.relay_user_linked_id_list)];
    const found = await Promise.all(links.map((id) => findRelayUserLink(grantor, id)));
    links.forEach((_, i) => !found[i] && problems.push(`relay_user_linked_id_list.${i}: not one of your relay_user links`));
    if (body.relay_group_linked_id && !(await findGroup(grantor, body.relay_group_linked_id)))
      problems.push('relay_group_linked_id: not one of your groups');
    if (problems.length) throw new ApiError('NOT_FOUND', 'Something this grant names was not found.', problems);
    const g = await insertGrant(grantor, {
      grantee_tenant_id: body.grantee_tenant_id,
      relay_user_linked_ids: links,
      relay_group_linked_id: body.relay_group_linked_id ?? null,
    });
    return { message: 'Delegation grant created.', data: toPublicGrant(g) };
  },
});

export const revokeGrant = defineRoute({
  method: 'post',
  path: '/relay/sudo/revoke/delegation-grant',
  summary: 'Revoke a delegation grant you gave',
  description: 'From now on the grantee cannot ask your users through it (403 at dispatch). Idempotent. 404 for a grant you did not give.',
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z.object({ grant_id: grantId }).strict(),
  response: publicGrant,
  errors: [404],
  handler: async (_ctx, { body, principal }) => {
    const g = await revokeGivenGrant(principal.tenant.id, body.grant_id);
    if (!g) throw notFound('Delegation grant');
    return { message: 'Delegation grant revoked.', data: toPublicGrant(g) };
  },
});

export const fetchGrants = defineRoute({
  method: 'get',
  path: '/relay/sudo/fetch/delegation-grants',
  summary: 'The delegation grants you gave and the ones you received',
  description: 'Each side sees only its half: a grant you received shows what it lets you ask, nothing more of the other tenant.',
  tags: SUDO_TAGS,
  security: 'hmac',
  response: z.object({ given: z.array(publicGrant), received: z.array(publicGrant) }),
  handler: async (_ctx, { principal }) => {
    const { given, received } = await grantsOf(principal.tenant.id);
    return {
      message: `${given.length} given, ${received.length} received.`,
      data: { given: given.map(toPublicGrant), received: received.map(toPublicGrant) },
    };
  },
});

/** The wire types of these routes, for clients and tests. */
export type CreateGrantRequest = RequestBody<typeof createGrant>;
export type RevokeGrantRequest = RequestBody<typeof revokeGrant>;
export type DelegationGrant = ResponseData<typeof createGrant>;
export type FetchGrantsResponse = ResponseData<typeof fetchGrants>;
