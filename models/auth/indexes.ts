/**
 * The Auth Relay's unique indexes carry invariants (one pairing per user, one request per
 * instruction_id, one device per session-token hash), so they must exist before the first write,
 * whatever the connection. Mongoose's autoIndex builds them once per model, in the background, on
 * the first connection only; a process that reconnects to another database (the test harness does,
 * per test file) would write without them. `ensureAuthIndexes()` builds them once per database
 * handle and is awaited by the writers that rely on them; afterwards it costs a WeakSet lookup.
 */
import mongoose from 'mongoose';
import { ApprovalRequestModel, PushDeliveryModel } from './approval-request.js';
import { DeviceModel } from './device.js';
import { PairingIntentModel, PairingModel } from './pairing.js';

const ready = new WeakMap<object, Promise<void>>();

export function ensureAuthIndexes(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db) return Promise.resolve(); // not connected: the write itself will report the outage
  let p = ready.get(db);
  if (!p) {
    p = Promise.all(
      [ApprovalRequestModel, PushDeliveryModel, DeviceModel, PairingIntentModel, PairingModel].map((m) => m.createIndexes()),
    ).then(() => undefined);
    p.catch(() => ready.delete(db)); // retry on the next write
    ready.set(db, p);
  }
  return p;
}
