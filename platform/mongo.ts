/**
 * MongoDB through Mongoose. bufferCommands is off so that a store outage answers 503 at once instead
 * of queueing requests behind a dead connection. Works on MongoDB 6+ and on FerretDB v1 (no
 * transactions or change streams are used anywhere).
 */
import mongoose from 'mongoose';

mongoose.set('bufferCommands', false);
mongoose.set('strictQuery', true);

export async function connectMongo(uri: string): Promise<typeof mongoose> {
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, maxPoolSize: 50 });
  return mongoose;
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
    /buffering timed out|Client must be connected|before initial connection is complete|connection .* closed/i.test(err.message)
  );
}
