/**
 * A workspace's chat operators, managed from the console (docs/contract.md §3.5): create (or enable again), edit,
 * disable — the same lifecycle as the tenant's backend uses (models/chat/operator-lifecycle.ts), so a
 * change of role or routing keys, or disabling, revokes the operator's tokens and closes its sockets
 * at once. Scoped to the workspace's tenant (another workspace's tenant or operator answers 404).
 * Admins and owners change; members read the list (api/console/tenants.ts). Each change is audited.
 */
import { z } from 'zod';
import { deprovisionOperator, provisionOperator, updateOperator } from '../../models/chat/operator-lifecycle.js';
import { OPERATOR_ROLES, type OperatorDoc } from '../../models/chat/operator.js';
import { notFound } from '../errors.js';
import { inWorkspace, workspaceTenantId } from '../principals/console.js';
import { defineRoute, q } from '../route.js';
import { audit, email, tags, wsQuery } from './common.js';

const tenantQuery = wsQuery.extend({ tenant_id: q.tenantId() });
const operatorId = z.string().startsWith('op_').max(64);
const displayName = z.string().trim().min(1).max(120);
const routingKeys = z.array(z.string().trim().min(1).max(100)).max(200);

const operatorOut = z.object({
  operator_id: z.string(),
  email: z.string(),
  display_name: z.string(),
  role: z.enum(OPERATOR_ROLES),
  routing_keys: z.array(z.string()),
  status: z.enum(['active', 'disabled']),
});
const toOut = (o: OperatorDoc): z.infer<typeof operatorOut> => ({
  operator_id: o._id,
  email: o.email,
  display_name: o.display_name,
  role: o.role,
  routing_keys: o.routing_keys ?? [],
  status: o.status === 'disabled' ? 'disabled' : 'active',
});

/** The tenant, when it is the workspace's (404 otherwise, like a missing one), proven as a TenantId. */
const workspaceTenant = workspaceTenantId;

export const consoleProvisionOperator = defineRoute({
  method: 'post',
  path: '/console/provision/operator',
  summary: 'Create an operator of a tenant, or enable a disabled one again (idempotent on email)',
  description:
    "Like the backend's `POST /relay/provision/operator`: 201 the first time, 200 with the settings refreshed afterwards; a disabled operator is enabled again. A change of role or routing keys revokes its earlier tokens.",
  tags: tags.tenants,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: z
    .object({
      email: email.transform((e) => e.toLowerCase()),
      display_name: displayName,
      routing_keys: routingKeys.default([]),
      role: z.enum(OPERATOR_ROLES).default('agent'),
    })
    .strict(),
  response: operatorOut,
  successStatus: 201,
  otherSuccessStatuses: [200],
  errors: [404],
  handler: async (ctx, { body, query, deps, principal }) => {
    const tenantId = await workspaceTenant(principal, query.tenant_id);
    const r = await provisionOperator(deps, tenantId, body);
    await audit(ctx, principal, inWorkspace(principal).doc._id, {
      action: r.created ? 'operator.created' : 'operator.provisioned',
      target: r.operator._id,
      details: { tenant_id: tenantId, role: body.role, routing_keys: body.routing_keys },
    });
    return {
      status: r.created ? 201 : 200,
      message: r.created ? 'Operator created.' : 'Operator updated and enabled.',
      data: toOut(r.operator),
    };
  },
});

export const consoleUpdateOperator = defineRoute({
  method: 'post',
  path: '/console/update/operator',
  summary: "Edit an operator's name, role or routing keys",
  description: 'A change of role or routing keys revokes its tokens at once (its sockets close with 4401); it keeps its status.',
  tags: tags.tenants,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: z
    .object({
      operator_id: operatorId,
      display_name: displayName.optional(),
      role: z.enum(OPERATOR_ROLES).optional(),
      routing_keys: routingKeys.optional(),
    })
    .strict()
    .refine((b) => b.display_name !== undefined || b.role !== undefined || b.routing_keys !== undefined, 'give something to change')
    .meta({ anyOf: [{ required: ['display_name'] }, { required: ['role'] }, { required: ['routing_keys'] }] }),
  response: operatorOut,
  errors: [404],
  handler: async (ctx, { body, query, deps, principal }) => {
    const tenantId = await workspaceTenant(principal, query.tenant_id);
    const { operator_id, ...set } = body;
    const op = await updateOperator(
      deps,
      tenantId,
      operator_id,
      Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined)),
    );
    if (!op) throw notFound('Operator');
    await audit(ctx, principal, inWorkspace(principal).doc._id, {
      action: 'operator.updated',
      target: op._id,
      details: { tenant_id: tenantId, ...set },
    });
    return { message: 'Operator updated.', data: toOut(op) };
  },
});

export const consoleDeprovisionOperator = defineRoute({
  method: 'post',
  path: '/console/deprovision/operator',
  summary: 'Disable an operator: its tokens and sockets stop at once (idempotent)',
  tags: tags.tenants,
  security: 'console',
  consoleRole: 'admin',
  query: tenantQuery,
  body: z.object({ operator_id: operatorId }).strict(),
  response: operatorOut,
  errors: [404],
  handler: async (ctx, { body, query, deps, principal }) => {
    const tenantId = await workspaceTenant(principal, query.tenant_id);
    const op = await deprovisionOperator(deps, tenantId, { operator_id: body.operator_id });
    if (!op) throw notFound('Operator');
    await audit(ctx, principal, inWorkspace(principal).doc._id, {
      action: 'operator.disabled',
      target: op._id,
      details: { tenant_id: tenantId },
    });
    return { message: 'Operator disabled; its tokens are revoked.', data: toOut(op) };
  },
});

export const consoleOperatorRoutes = [consoleProvisionOperator, consoleUpdateOperator, consoleDeprovisionOperator];
