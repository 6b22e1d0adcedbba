/**
 * Master-key rotation for the console: TOTP secrets are sealed under the master key like tenant
 * secrets, so the same step (POST /api/v1/reseal/tenant-secrets) re-seals them under the current key
 * before the old key is removed. Idempotent; paged by `_id`.
 */
import { isCurrent, open, seal, sealedFor, type KeyRing, type Sealed } from '../../platform/secret-box.js';
import { AccountModel } from './account.js';

const PAGE = 200;

export async function resealTotpSecrets(ring: KeyRing): Promise<{ accounts: number; resealed: number }> {
  let accounts = 0;
  let resealed = 0;
  let after = '';
  for (;;) {
    const page = await AccountModel.find(after ? { _id: { $gt: after } } : {}, { totp_secret: 1 })
      .sort({ _id: 1 })
      .limit(PAGE)
      .lean<{ _id: string; totp_secret: Sealed | null }[]>();
    for (const a of page) {
      if (!a.totp_secret) continue;
      accounts++;
      if (isCurrent(ring, a.totp_secret)) continue; // else an old key, or v1 (bound to the key id only)
      const bound = sealedFor.totpSecret(a._id);
      // Guarded on the sealed value read, so a TOTP change meanwhile is not undone.
      const r = await AccountModel.updateOne(
        { _id: a._id, 'totp_secret.ct': a.totp_secret.ct },
        { $set: { totp_secret: seal(ring, open(ring, a.totp_secret, bound), bound) } },
      );
      if (r.modifiedCount) resealed++;
    }
    if (page.length < PAGE) return { accounts, resealed };
    after = page[page.length - 1]?._id ?? '';
  }
}
