/** Options every collection shares: snake_case timestamps, no __v, ids we generate ourselves. */
import type { SchemaOptions } from 'mongoose';

export const baseSchemaOptions = {
  timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
  versionKey: false,
} satisfies SchemaOptions;
