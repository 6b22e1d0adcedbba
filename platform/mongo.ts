/**
 * MongoDB through Mongoose. bufferCommands is off so that a store outage answers 503 at once instead
 * of queueing requests behind a dead connection. Works on MongoDB 6+ and on FerretDB v1 (no
 * transactions or change streams are used anywhere).
 */
import mongoose from 'mongoose';

mongoose.set('bufferCommands', false);
mongoose.set('strictQuery', true);

/**
 * Written to a majority of a replica set before it counts (a worker completes its job only after its
 * write, so a write a failover rolled back would be lost for good), bounded so a set that lost its
 * majority surfaces as an error (the job is retried) instead of a hang; read from the primary, which
 * always has the relay's own latest writes. A standalone server or FerretDB treats majority as one.
 */
const CONCERNS = { writeConcern: { w: 'majority' as const, wtimeoutMS: 10_000 }, readPreference: 'primary' as const };

export async function connectMongo(uri: string): Promise<typeof mongoose> {
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 50, ...CONCERNS });
  await ensureIndexes();
  return mongoose;
}

/**
 * Builds every registered model's indexes before the process serves anything. Mongoose would
 * otherwise build them in the background, and correctness depends on some of them (the unique
 * index behind an idempotent upsert): a request racing the build could create duplicates.
 */
export async function ensureIndexes(): Promise<void> {
  // createIndexes, not init(): init() is memoised per model, and would skip a database connected later.
  await Promise.all(mongoose.modelNames().map((name) => mongoose.model(name).createIndexes()));
}

/** Resolves when the store answers a ping (the readiness probe bounds it with a timeout). */
export async function pingMongo(): Promise<void> {
  if (!mongoose.connection.db) throw new Error('MongoDB is not connected');
  await mongoose.connection.db.admin().ping();
}

export async function disconnectMongo(): Promise<void> {
  await mongoose.disconnect();
}

/** True when the error means the store is unreachable (→ 503), not a bug in our query. */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MongoServerSelectionError' ||
    err.name === 'MongoNetworkError' ||
    err.name === 'MongoNotConnectedError' ||
    err.name === 'MongoTopologyClosedError' ||
    // w: majority not reached within wtimeoutMS: the replica set has lost its majority for now.
    err.name === 'MongoWriteConcernError' ||
    // A batch write unanswered past STORE_WRITE_TIMEOUT_MS (models/platform/batch-insert.ts).
    err.name === 'StoreTimeoutError' ||
    /buffering timed out|Client must be connected|before initial connection is complete|connection .* closed/i.test(err.message)
  );
}
