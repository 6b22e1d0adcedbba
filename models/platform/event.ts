/** The event store: every callback-worthy fact, once, whatever number of endpoints it goes to. */
import { Schema, model, type InferSchemaType } from 'mongoose';

const eventSchema = new Schema(
  {
    _id: { type: String, required: true }, // evt_… (time-sortable)
    tenant_id: { type: String, required: true },
    event_type: { type: String, required: true },
    data: { type: Schema.Types.Mixed, required: true },
    created_at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'events' },
);
// Serves listing a tenant's events by time (admin inspection, replay by range).
eventSchema.index({ tenant_id: 1, created_at: -1 });

export type EventDoc = InferSchemaType<typeof eventSchema> & { _id: string };
export const EventModel = model('Event', eventSchema);
