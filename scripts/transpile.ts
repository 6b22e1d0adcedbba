/**
 * Transpiles the relay's TypeScript (api, workers, queues, models, platform, scripts) file by file into
 * plain ES modules under a folder of .data/ (default .data/build), with inline source maps: what tsx
 * does on every start, done once (and the Lua scripts copied beside them). The test harness spawns its API and worker processes from there when
 * RELAY_BUILD_DIR names it (scripts/test.sh sets it), which saves each of them ~2 s of CPU; a test run
 * by hand, without it, spawns them through tsx as before. Imports already name `.js` files (NodeNext),
 * so no bundling and no rewriting: the output sits under the project root and finds package.json
 * ("type": "module") and node_modules by walking up, as the sources do.
 *
 *   npx tsx scripts/transpile.ts [outDir]
 */
import { readdirSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { copyLua } from './copy-lua.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIRS = ['api', 'workers', 'queues', 'models', 'platform', 'scripts'];

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.unit.test.ts')) yield p;
  }
}

async function main(): Promise<void> {
  const out = join(ROOT, process.argv[2] ?? '.data/build');
  rmSync(out, { recursive: true, force: true });
  const files = DIRS.flatMap((d) => [...sources(join(ROOT, d))]);
  await Promise.all(
    files.map(async (file) => {
      const rel = relative(ROOT, file);
      const { code } = await transform(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        sourcemap: 'inline',
        sourcefile: file,
      });
      const target = join(out, rel.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }),
  );
  copyLua(out);
  console.log(`transpiled ${files.length} files into ${relative(ROOT, out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
