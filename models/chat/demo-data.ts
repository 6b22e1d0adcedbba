/**
 * The local demo's data (api/chat/dev-pages.ts, only with RELAY_DEV_PAGES=true): a demo tenant found
 * by its name and created on first use, and its one operator. It stands in for a tenant's own admin,
 * so it is the one place that looks a tenant up by name; the operator is then written under the
 * tenant it proved (models/platform/tenant-id.ts).
 */
import { randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { newId, newTenantId, newTenantSecret, newWidgetPublicKey } from '../../platform/ids.js';
import { seal, sealedFor, type KeyRing } from '../../platform/secret-box.js';
import { upsertRelayUserLink } from '../platform/relay-user-link.js';
import { provenTenantId, type TenantId } from '../platform/tenant-id.js';
import { TenantModel, type TenantDoc } from '../platform/tenant.js';
import { OperatorModel, type OperatorDoc } from './operator.js';

const DEMO_TENANT = 'dev-demo';
const DEMO_OPERATOR = 'demo-operator@example.test';
const scryptAsync = promisify(scrypt);

/**
 * The demo tenant, allowing `origin` (added when missing: `originAdded` tells the caller to bump the
 * tenant's generation so every process sees it).
 */
export async function demoTenant(keyRing: KeyRing, origin: string): Promise<{ id: TenantId; tenant: TenantDoc; originAdded: boolean }> {
  const found = await TenantModel.findOne({ tenant_name: DEMO_TENANT }).lean<TenantDoc>();
  if (!found) {
    const tenantId = newTenantId();
    const doc = await TenantModel.create({
      _id: tenantId,
      tenant_name: DEMO_TENANT,
      branding_display_name: 'Boutique démo',
      branding_primary_color: '#0b6e4f',
      allowed_origins: [origin],
      secret: seal(keyRing, newTenantSecret(), sealedFor.tenantSecret(tenantId)),
      widget_public_key: newWidgetPublicKey(),
    });
    return { id: provenTenantId(tenantId), tenant: doc.toObject() as TenantDoc, originAdded: false };
  }
  const originAdded = !(found.allowed_origins ?? []).includes(origin);
  if (originAdded)
    await TenantModel.updateOne({ _id: found._id }, { $set: { allowed_origins: [...(found.allowed_origins ?? []), origin] } });
  return { id: provenTenantId(found._id), tenant: found, originAdded };
}

/** The demo tenant's operator, created on first use (with a random password nobody knows: it signs in by token). */
export async function demoOperator(tenant: TenantId): Promise<OperatorDoc> {
  const existing = await OperatorModel.findOne({ tenant_id: tenant, email: DEMO_OPERATOR }).lean<OperatorDoc>();
  if (existing) return existing;
  const link = await upsertRelayUserLink(tenant, DEMO_OPERATOR, 'operator', 'Camille (démo)');
  const salt = randomBytes(16);
  const hash = (await scryptAsync(randomBytes(32), salt, 32)) as Buffer;
  const created = await OperatorModel.create({
    _id: newId('op'),
    tenant_id: tenant,
    email: DEMO_OPERATOR,
    display_name: 'Camille (démo)',
    routing_keys: [],
    role: 'agent',
    password_hash: `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`,
    relay_user_linked_id: String(link._id),
  });
  return created.toObject() as unknown as OperatorDoc;
}
