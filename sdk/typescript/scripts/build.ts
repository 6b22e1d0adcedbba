/**
 * Builds the publishable package into dist/ (git-ignored): tsc twice over the same sources, so the
 * ESM and the CommonJS builds are the same code with their own declarations.
 *
 *   dist/esm  ES modules + .d.ts (the package is "type": "module"; the exports map's "import")
 *   dist/cjs  CommonJS + .d.ts, with a package.json saying so (the exports map's "require")
 *
 * No bundler: the package has no runtime dependency to inline, and plain tsc output keeps stack
 * traces and source maps one-to-one with src/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(join(PKG, 'package.json')).resolve('typescript/bin/tsc');

rmSync(join(PKG, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(PKG, project)], { stdio: 'inherit', cwd: PKG });
}
mkdirSync(join(PKG, 'dist/cjs'), { recursive: true });
// Without it, Node would read dist/cjs/*.js as ES modules (the package says "type": "module").
writeFileSync(join(PKG, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
process.stdout.write('built dist/esm and dist/cjs\n');
