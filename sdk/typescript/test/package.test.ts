/**
 * The package as it is published: the ESM and CommonJS builds in dist/ (built by scripts/build.ts
 * before the tests), their declarations, the exports map, and what `npm pack` would ship. Each build
 * makes a real signed call to the live relay.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as source from '../src/index.js';
import { relay, socketHash } from './support/relay.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
const NAME = '@bloonio/relay'; // resolved through the package's own exports map (Node's self-reference)

describe('the published package (@bloonio/relay)', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(join(PKG, 'dist/esm/index.js')))
      throw new Error('dist/ is missing: build first (npx tsx sdk/typescript/scripts/build.ts)');
  });

  it('maps import to the ESM build and require to the CommonJS build, each with declarations', () => {
    const root = pkg.exports['.'];
    for (const target of [root.import.default, root.import.types, root.require.default, root.require.types, pkg.main, pkg.types]) {
      assert.ok(existsSync(join(PKG, target)), `${target} exists`);
    }
    assert.equal(JSON.parse(readFileSync(join(PKG, 'dist/cjs/package.json'), 'utf8')).type, 'commonjs');
    assert.equal(pkg.type, 'module');
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'no runtime dependency');
    assert.deepEqual(Object.keys(pkg.peerDependenciesMeta).sort(), ['express', 'ioredis', 'koa']);
    assert.equal(source.VERSION, pkg.version);
  });

  it('both builds export what the source does, and make a real signed call', async () => {
    const esm = await import(NAME);
    const cjs = createRequire(import.meta.url)(NAME);
    assert.notEqual(esm.RelayClient, cjs.RelayClient, 'two builds, not one aliased');
    const names = Object.keys(source).sort();
    assert.deepEqual(Object.keys(esm).sort(), names);
    assert.deepEqual(Object.keys(cjs).sort(), names);
    const r = await relay();
    const t = await r.provision('ts-package', { callback_url_base: 'http://127.0.0.1:9' }); // a receiver that is not there
    for (const m of [esm, cjs]) {
      const c = new m.RelayClient({ baseUrl: r.url, tenantId: t.tenantId, tenantSecret: t.tenantSecret });
      const e = await c.fetchDevices({ userSocketHash: socketHash() }).catch((x: unknown) => x);
      assert.ok(e instanceof m.NotFoundError, String(e)); // signed and accepted: the relay looked the user up
      assert.ok((await c.sendTestCallback({ note: 'from the build' })).eventId.startsWith('evt_'));
    }
  });

  it('ships dist/, the README and package.json, and nothing else', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, encoding: 'utf8' });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    assert.ok(files.includes('dist/esm/index.js') && files.includes('dist/cjs/index.js') && files.includes('dist/esm/index.d.ts'));
    assert.ok(files.includes('README.md') && files.includes('package.json'));
    assert.deepEqual(
      files.filter((f) => !f.startsWith('dist/') && f !== 'README.md' && f !== 'package.json'),
      [],
    );
  });
});
