/**
 * Master-key rotation, the second half: re-sealing every tenant secret under the current master key.
 *
 * A rotation is: put the new key first in SECRETS_MASTER_KEY and keep the old one after it (every
 * process then seals and mints with the new key and still opens and verifies with the old), run this
 * (POST /api/v1/reseal/tenant-secrets), then — once tokens minted under the old key have expired
 * (visitor ~1 h, operator ≤ 7 days, pairing proofs ~5 min) — remove the old key.
 */
import type { Redis } from 'ioredis';
import { isCurrent, open, seal, sealedFor, type KeyRing } from '../../platform/secret-box.js';
import { TenantModel, type TenantDoc } from './tenant.js';
import type { TenantStore } from './tenant-store.js';

const PAGE = 200;

/** Re-seals each secret not sealed under the current key; idempotent. Throws if a secret's key is missing. */
export async function resealTenantSecrets(
  deps: { redis: Redis; tenants: TenantStore },
  ring: KeyRing,
): Promise<{ tenants: number; resealed: number }> {
  let tenants = 0;
  let resealed = 0;
  let after = '';
  for (;;) {
    const page = await TenantModel.find(after ? { _id: { $gt: after } } : {}, { secret: 1, previous_secret: 1 })
      .sort({ _id: 1 })
      .limit(PAGE)
      .lean<Pick<TenantDoc, '_id' | 'secret' | 'previous_secret'>[]>();
    for (const t of page) {
      tenants++;
      const set: Record<string, unknown> = {};
      const bound = sealedFor.tenantSecret(t._id);
      // An old key, or the v1 format bound to the key id only: re-sealed under the current key as v2.
      if (!isCurrent(ring, t.secret)) set.secret = seal(ring, open(ring, t.secret, bound), bound);
      if (t.previous_secret && !isCurrent(ring, t.previous_secret))
        set.previous_secret = seal(ring, open(ring, t.previous_secret, bound), bound);
      if (Object.keys(set).length === 0) continue;
      // Guarded on the sealed value read, so a rotation of the tenant secret meanwhile is not undone.
      const r = await TenantModel.updateOne({ _id: t._id, 'secret.ct': t.secret.ct }, { $set: set });
      if (r.modifiedCount) {
        resealed++;
        await deps.tenants.bump(t._id);
      }
    }
    if (page.length < PAGE) return { tenants, resealed };
    after = page[page.length - 1]?._id ?? '';
  }
}
