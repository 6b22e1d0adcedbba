/**
 * The admin key the shell scripts use against a local relay: ADMIN_API_KEY, else the one `npm start`
 * wrote to .data/local.env; the first of a comma-separated list (the key being rotated in). Null when
 * there is neither: each script says so in its own way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function localAdminKey(): string | null {
  if (process.env.ADMIN_API_KEY) return process.env.ADMIN_API_KEY.split(',')[0]?.trim() ?? '';
  const local = fileURLToPath(new URL('../.data/local.env', import.meta.url));
  const m = existsSync(local) ? /^ADMIN_API_KEY=(.+)$/m.exec(readFileSync(local, 'utf8')) : null;
  return m?.[1] ? (m[1].split(',')[0]?.trim() ?? '') : null;
}
