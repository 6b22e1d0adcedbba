/** Schemas of the sudo routes (docs/contract.md §2.4): a dispatch, approver groups, delegation grants, the ApprovalEvent. */
import { z } from 'zod';
import { SUDO_EVENT_TYPES } from '../../../models/auth/sudo-flow.js';
import { approvalEvent } from '../../../models/platform/callback-catalogue.js';
import { fieldRules, httpUrl } from '../../schemas.js';
import { DATA_TYPES, instructionId } from '../schemas.js';

export const SUDO_TAGS = ['Auth Relay: sudo'];
export const ACTION_TYPES = ['creation', 'deletion', 'update', 'upsert'] as const;

export const linkId = z.string().regex(/^[0-9a-f]{24}$/, 'must be a relay_user_linked_id (24 hex characters)');
export const groupId = z.string().regex(/^grp_[0-9a-z]{26}$/, 'must be an approver group id (grp_…)');
export const sudoEventId = z.string().regex(/^sud_[0-9a-z]{26}$/, 'must be a sudo event id (sud_…)');
export const tenantIdField = z.string().regex(/^tnt_[0-9a-f]{24}$/, 'must be a tenant id (tnt_…)');

export const dataItem = z
  .object({
    key: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 _ . -'),
    title: z.string().trim().min(1).max(80),
    value: z.string().max(500),
    data_type: z.enum(DATA_TYPES),
  })
  .strict();

export const dispatchBody = z
  .object({
    event_type: z
      .enum(SUDO_EVENT_TYPES)
      .describe(
        "sudo_action: one approver among the people listed. sudo_group_action: a quorum, the groups' threshold of distinct people (one person's several devices count once) or `threshold`. sudo_delegated_action: people of another tenant (`grantor_tenant_id`), through the delegation grants it gave you.",
      ),
    action_type: z.enum(ACTION_TYPES).describe('The kind of change being approved.'),
    instruction_id: instructionId.describe('Your correlation id for this action; it comes back in the ApprovalEvent.'),
    expected_action: z.string().trim().min(1).max(120).describe('What is being approved, e.g. transfer_funds.'),
    title: z.string().trim().min(1).max(120),
    description: z.string().trim().max(500).optional(),
    custom_type: z
      .enum(['localAuth', 'totp', 'goldenNumber'])
      .default('localAuth')
      .describe(
        'localAuth: the person unlocks the device. goldenNumber: number matching; the answer carries `number`, your page shows it, the person picks it on the device and types it on your page (POST /relay/sudo/submit-response). totp: the device shows a code the person types on your page, checked with submit-response.',
      ),
    fields: z.array(dataItem).max(20).default([]).describe('Display fields the device shows (docs/contract.md §2.2 data types).'),
    relay_user_linked_id_list: z.array(linkId).max(50).default([]),
    relay_group_linked_id_list: z.array(groupId).max(10).default([]),
    grantor_tenant_id: tenantIdField
      .optional()
      .describe('sudo_delegated_action: the tenant whose users approve, through the grants it gave you.'),
    threshold: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe(
        "Distinct approvals needed; default 1, or the groups' threshold. A sudo_delegated_action naming the grantor's group may raise its threshold, never lower it (422).",
      ),
    data_access_type: z.enum(['static', 'dynamic']),
    data_items: z.array(dataItem).max(50).optional().describe('static: the data the approver sees.'),
    data_fetch_url: httpUrl
      .optional()
      .describe('dynamic: the relay fetches the data from here (signed with HMAC #1) when an approver opens the request.'),
    ttl_seconds: z.number().int().min(10).max(3600).default(300),
    idempotency_key: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .optional()
      .describe('The same key and body answer the same event (200); the same key with another body is 409.'),
    // Named (rather than left to .strict()) so the 422 says why; `not: {}` in the document: no value is valid.
    tenant_id: z
      .never({ error: 'must not be in the body: the signature says which tenant calls' })
      .optional()
      .describe('Never send it: the signature says which tenant calls (422).'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!b.relay_user_linked_id_list.length && !b.relay_group_linked_id_list.length)
      ctx.addIssue({
        code: 'custom',
        path: ['relay_user_linked_id_list'],
        message: 'give at least one of relay_user_linked_id_list / relay_group_linked_id_list',
      });
    if (b.data_access_type === 'static' && !b.data_items?.length)
      ctx.addIssue({ code: 'custom', path: ['data_items'], message: 'required when data_access_type is static' });
    if (b.data_access_type === 'dynamic' && !b.data_fetch_url)
      ctx.addIssue({ code: 'custom', path: ['data_fetch_url'], message: 'required when data_access_type is dynamic' });
    if (b.data_access_type === 'dynamic' && b.data_items)
      ctx.addIssue({ code: 'custom', path: ['data_items'], message: 'only for data_access_type static' });
    if (b.event_type === 'sudo_delegated_action' && !b.grantor_tenant_id)
      ctx.addIssue({ code: 'custom', path: ['grantor_tenant_id'], message: 'required for sudo_delegated_action' });
    if (b.event_type !== 'sudo_delegated_action' && b.grantor_tenant_id)
      ctx.addIssue({ code: 'custom', path: ['grantor_tenant_id'], message: 'only for sudo_delegated_action' });
    if (b.event_type === 'sudo_group_action' && !b.relay_group_linked_id_list.length && b.threshold === undefined)
      ctx.addIssue({ code: 'custom', path: ['relay_group_linked_id_list'], message: 'a group action needs a group or a threshold' });
  })
  // The same rules, in the same order, for the document.
  .meta({
    allOf: [
      { anyOf: [fieldRules.nonEmpty('relay_user_linked_id_list'), fieldRules.nonEmpty('relay_group_linked_id_list')] },
      { if: fieldRules.hasValue('data_access_type', 'static'), then: fieldRules.nonEmpty('data_items') },
      { if: fieldRules.hasValue('data_access_type', 'dynamic'), then: { required: ['data_fetch_url'], not: { required: ['data_items'] } } },
      {
        if: fieldRules.hasValue('event_type', 'sudo_delegated_action'),
        then: { required: ['grantor_tenant_id'] },
        else: { not: { required: ['grantor_tenant_id'] } },
      },
      {
        if: { ...fieldRules.hasValue('event_type', 'sudo_group_action'), not: fieldRules.nonEmpty('relay_group_linked_id_list') },
        then: { required: ['threshold'] },
      },
    ],
  });

export const dispatchResponse = z.object({
  event_id: z.string(),
  status: z.string(),
  expires_at: z.string(),
  number: z
    .number()
    .int()
    .optional()
    .describe(
      'custom_type goldenNumber only: the number your page shows. The relay chose it with two others (10–99); the device offers the three and the person must pick this one (another pick ends the event denied, reason number_mismatch).',
    ),
});

export const approvalEventView = approvalEvent;

const MAX_GROUP_MEMBERS = 50;

/** A group's members: distinct relay_user links (a repeated one is refused, so the count is the array's length). */
export const groupMembers = z
  .array(linkId)
  .min(1)
  .max(MAX_GROUP_MEMBERS)
  .refine((ids) => new Set(ids).size === ids.length, 'must be distinct')
  .meta({ uniqueItems: true });

/**
 * "threshold ≤ the number of members" in JSON Schema, which cannot compare two fields: one branch
 * per possible count (threshold ≤ n and at least n members, for some n).
 */
export const thresholdWithinMembers = {
  anyOf: Array.from({ length: MAX_GROUP_MEMBERS }, (_, i) => ({
    properties: { threshold: { maximum: i + 1 }, member_relay_user_linked_ids: { minItems: i + 1 } },
  })),
};

export const groupBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    member_relay_user_linked_ids: groupMembers,
    threshold: z.number().int().min(1).max(MAX_GROUP_MEMBERS),
    deny_on_first_denial: z.boolean().default(false),
  })
  .strict()
  .refine((g) => g.threshold <= g.member_relay_user_linked_ids.length, {
    message: 'must not exceed the number of members',
    path: ['threshold'],
  })
  .meta(thresholdWithinMembers);

export const publicGroup = z.object({
  group_id: z.string(),
  name: z.string(),
  member_relay_user_linked_ids: z.array(z.string()),
  threshold: z.number().int(),
  deny_on_first_denial: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const publicGrant = z.object({
  grant_id: z.string(),
  grantor_tenant_id: z.string(),
  grantee_tenant_id: z.string(),
  relay_user_linked_ids: z.array(z.string()),
  relay_group_linked_id: z.string().nullable(),
  status: z.enum(['active', 'revoked']),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
