/**
 * Copies the Redis Lua scripts (platform/lua/*.lua, read at start by platform/redis-scripts.ts beside
 * the compiled code) into a build's output folder: `npm run build` (dist/) and scripts/transpile.ts
 * (.data/build) compile only TypeScript.
 *
 *   npx tsx scripts/copy-lua.ts <outDir>
 */
import { cpSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function copyLua(outDir: string): void {
  cpSync(join(ROOT, 'platform/lua'), join(resolve(ROOT, outDir), 'platform/lua'), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || src.endsWith('.lua'),
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: copy-lua.ts <outDir>');
  copyLua(out);
}
