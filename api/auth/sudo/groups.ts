/** Approver groups (docs/contract.md §2.4, decided): a tenant's sets of people with a threshold, for sudo_group_action. */
import { z } from 'zod';
import { findGroup, groupsOf, toPublicGroup } from '../../../models/auth/approver-group.js';
import { changeGroup, insertGroup, removeGroup } from '../../../models/auth/approver-group-data.js';
import { findRelayUserLink } from '../../../models/platform/relay-user-link.js';
import { ApiError, notFound } from '../../errors.js';
import { defineRoute, type RequestBody, type ResponseData } from '../../route.js';
import { fieldRules } from '../../schemas.js';
import { SUDO_TAGS, groupBody, groupId, groupMembers, publicGroup } from './schemas.js';
import type { TenantId } from '../../../models/platform/tenant-id.js';

/**
 * Every member must be one of this tenant's relay_user links: 404 naming the unknown ones (a
 * well-formed id that names nothing here, like any other lookup; 422 is for what the schema refuses).
 */
async function checkMembers(tenantId: TenantId, ids: string[]): Promise<string[]> {
  const found = await Promise.all(ids.map((id) => findRelayUserLink(tenantId, id)));
  // Named by position, never by value: an answer never says whether someone else's id exists.
  const unknown = ids.flatMap((_, i) => (found[i] ? [] : [`member_relay_user_linked_ids.${i}: not one of your relay_user links`]));
  if (unknown.length) throw new ApiError('NOT_FOUND', 'A member is not one of your relay_user links.', unknown);
  return ids;
}

export const createGroup = defineRoute({
  method: 'post',
  path: '/relay/sudo/create/group',
  summary: 'Create an approver group (people and a threshold)',
  description:
    'A `sudo_group_action` naming this group is approved when `threshold` distinct members approve (one person with several devices counts once), and denied as soon as the threshold can no longer be reached — or at the first denial when `deny_on_first_denial`. Members are distinct relay_user links of yours (from pairing).',
  errors: { 404: 'A member is not one of your relay_user links (details name it by position).' },
  tags: SUDO_TAGS,
  security: 'hmac',
  body: groupBody,
  response: publicGroup,
  successStatus: 201,
  handler: async (_ctx, { body, principal }) => {
    const tenant = principal.tenant.id;
    const members = await checkMembers(tenant, body.member_relay_user_linked_ids);
    const g = await insertGroup(tenant, {
      name: body.name,
      member_relay_user_linked_ids: members,
      threshold: body.threshold,
      deny_on_first_denial: body.deny_on_first_denial,
    });
    return { message: 'Approver group created.', data: toPublicGroup(g) };
  },
});

export const updateGroup = defineRoute({
  method: 'post',
  path: '/relay/sudo/update/group',
  summary: 'Change an approver group',
  description:
    'Only the fields present change; the threshold may not exceed the members (409 when the group would). Events already dispatched keep the approvers they had. 404 for a group of another tenant.',
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z
    .object({
      group_id: groupId,
      name: z.string().trim().min(1).max(120).optional(),
      member_relay_user_linked_ids: groupMembers.optional(),
      threshold: z.number().int().min(1).max(50).optional(),
      deny_on_first_denial: z.boolean().optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 1, 'give at least one field to change')
    .meta(fieldRules.atLeastOne('name', 'member_relay_user_linked_ids', 'threshold', 'deny_on_first_denial')),
  response: publicGroup,
  errors: {
    404: 'No such group here, or a member is not one of your relay_user links.',
    409: 'The group would have a threshold above its number of members (what was sent, merged with what is stored).',
  },
  handler: async (_ctx, { body, principal }) => {
    const tenant = principal.tenant.id;
    const current = await findGroup(tenant, body.group_id);
    if (!current) throw notFound('Approver group');
    const members = body.member_relay_user_linked_ids
      ? await checkMembers(tenant, body.member_relay_user_linked_ids)
      : current.member_relay_user_linked_ids;
    const threshold = body.threshold ?? current.threshold;
    // The group as it would be (what was sent over what is stored): a conflict with the group's
    // state, which the schema of a partial update cannot know of.
    if (threshold > members.length)
      throw new ApiError('CONFLICT', `The threshold (${threshold}) would exceed the group's ${members.length} member(s).`);
    const set = {
      ...(body.name !== undefined ? { name: body.name } : {}),
      member_relay_user_linked_ids: members,
      threshold,
      ...(body.deny_on_first_denial !== undefined ? { deny_on_first_denial: body.deny_on_first_denial } : {}),
    };
    const g = await changeGroup(tenant, body.group_id, set);
    if (!g) throw notFound('Approver group');
    return { message: 'Approver group updated.', data: toPublicGroup(g) };
  },
});

export const fetchGroups = defineRoute({
  method: 'get',
  path: '/relay/sudo/fetch/groups',
  summary: 'List your approver groups',
  tags: SUDO_TAGS,
  security: 'hmac',
  response: z.object({ groups: z.array(publicGroup) }),
  handler: async (_ctx, { principal }) => {
    const groups = await groupsOf(principal.tenant.id);
    return { message: `${groups.length} group(s).`, data: { groups: groups.map(toPublicGroup) } };
  },
});

export const deleteGroup = defineRoute({
  method: 'post',
  path: '/relay/sudo/delete/group',
  summary: 'Delete an approver group',
  description: 'Events already dispatched to it are not affected. 404 for a group of another tenant.',
  tags: SUDO_TAGS,
  security: 'hmac',
  body: z.object({ group_id: groupId }).strict(),
  response: z.object({ group_id: z.string(), deleted: z.literal(true) }),
  errors: [404],
  handler: async (_ctx, { body, principal }) => {
    if (!(await removeGroup(principal.tenant.id, body.group_id))) throw notFound('Approver group');
    return { message: 'Approver group deleted.', data: { group_id: body.group_id, deleted: true as const } };
  },
});

/** The wire types of these routes, for clients and tests. */
export type CreateGroupRequest = RequestBody<typeof createGroup>;
export type UpdateGroupRequest = RequestBody<typeof updateGroup>;
export type ApproverGroup = ResponseData<typeof createGroup>;
export type FetchGroupsResponse = ResponseData<typeof fetchGroups>;
export type DeleteGroupRequest = RequestBody<typeof deleteGroup>;
