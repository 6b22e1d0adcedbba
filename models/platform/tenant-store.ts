/**
 * Tenant lookups on the hot path (every signed request, every callback signing).
 *
 * Each process keeps decrypted tenant entries in memory, tagged with the tenant's *generation*, a
 * counter in Redis bumped by every admin change (update, rotate, suspend, reactivate). Callers read
 * the generation in the same Redis round trip they already make (the HMAC gate's script, the
 * delivery slot script) and reload from MongoDB when it moved. So a suspension or rotation takes
 * effect on every process at once, and the steady state costs no MongoDB read. The cache is derived
 * data only: the truth stays in MongoDB and Redis.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { open, sealedFor, type KeyRing } from '../../platform/secret-box.js';
import { provenTenantId, type TenantId } from './tenant-id.js';
import { TenantModel, type TenantDoc } from './tenant.js';

export type TenantEntry = {
  /** The tenant's id, proven by this load: what the tenant-scoped data modules take. */
  id: TenantId;
  tenant: TenantDoc;
  /** Secrets a signature may be made with: the current one first, then a previous one still in grace. */
  secrets: string[];
  /** When the previous secret's grace ends (ms epoch), or 0. */
  graceUntil: number;
  gen: string;
  /** When the generation was last confirmed against Redis (ms epoch). */
  checkedAt: number;
};

/** Why a tenant cannot act: it does not exist, or it is suspended. */
export type TenantRefusal = 'missing' | 'suspended';

const NEGATIVE_TTL_MS = 10_000;
/**
 * A cached entry is trusted this long before its generation is checked again (one Redis GET). So an
 * admin change reaches every path of every process within about a second, even paths that do not read
 * the generation in a round trip of their own as the HMAC gate does.
 */
const FRESH_MS = 1000;

export class TenantStore {
  private readonly entries = new Map<string, TenantEntry>();
  private readonly missing = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keyRing: KeyRing,
    private readonly prefix: string,
  ) {}

  /** Redis key of a tenant's generation counter; the hash tag keeps a tenant's keys on one cluster slot. */
  genKey(tenantId: string): string {
    return redisKey.tenantGeneration(this.prefix, tenantId);
  }

  /** The cached entry (possibly stale: callers compare `gen`), or a fresh load. Null when no such tenant. */
  async get(tenantId: string): Promise<TenantEntry | null> {
    const cached = this.entries.get(tenantId);
    if (cached) {
      if (!this.withinGrace(cached)) return this.load(tenantId);
      return Date.now() - cached.checkedAt < FRESH_MS ? cached : this.refresh(tenantId, cached);
    }
    const missUntil = this.missing.get(tenantId);
    if (missUntil && missUntil > Date.now()) return null;
    return this.load(tenantId);
  }

  /** Reads the generation first, then the document: a change in between shows as a newer gen later. */
  async load(tenantId: string): Promise<TenantEntry | null> {
    if (!/^tnt_[0-9a-f]{24}$/.test(tenantId)) return null;
    const gen = (await this.redis.get(this.genKey(tenantId))) ?? '0';
    const tenant = await TenantModel.findById(tenantId).lean<TenantDoc>();
    if (!tenant) {
      this.entries.delete(tenantId);
      if (this.missing.size > 10_000) this.missing.clear();
      this.missing.set(tenantId, Date.now() + NEGATIVE_TTL_MS);
      return null;
    }
    const secrets = [open(this.keyRing, tenant.secret, sealedFor.tenantSecret(tenantId))];
    const graceUntil = tenant.previous_secret_expires_at?.getTime() ?? 0;
    if (tenant.previous_secret && graceUntil > Date.now())
      secrets.push(open(this.keyRing, tenant.previous_secret, sealedFor.tenantSecret(tenantId)));
    const entry = { id: provenTenantId(tenant._id), tenant, secrets, graceUntil, gen, checkedAt: Date.now() };
    this.entries.set(tenantId, entry);
    this.missing.delete(tenantId);
    return entry;
  }

  /** The entry again if its generation still holds, else a fresh load. */
  async refresh(tenantId: string, entry: TenantEntry): Promise<TenantEntry | null> {
    const gen = (await this.redis.get(this.genKey(tenantId))) ?? '0';
    if (gen !== entry.gen) return this.load(tenantId);
    entry.checkedAt = Date.now();
    return entry;
  }

  /**
   * The one tenant-active check: the entry of a tenant that exists and is active, or why not. A
   * cached "suspended" is confirmed against the generation first, so a reactivation counts at once.
   */
  async getActive(tenantId: string): Promise<{ entry: TenantEntry } | { refused: TenantRefusal }> {
    let entry = await this.get(tenantId);
    if (entry && entry.tenant.status !== 'active') entry = await this.refresh(tenantId, entry);
    if (!entry) return { refused: 'missing' };
    if (entry.tenant.status !== 'active') return { refused: 'suspended' };
    return { entry };
  }

  /** Called after every admin write: other processes see the new generation on their next request. */
  async bump(tenantId: string): Promise<void> {
    this.entries.delete(tenantId);
    this.missing.delete(tenantId);
    await this.redis.incr(this.genKey(tenantId));
  }

  forget(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  // A cached entry holding a previous secret must drop it once its grace ends, without waiting for a bump.
  private withinGrace(e: TenantEntry): boolean {
    return e.secrets.length < 2 || e.graceUntil > Date.now();
  }
}
