/** The docs link checker (scripts/docs/check-links.ts): GitHub's slugs, links outside code, what counts as broken. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { README_MAX_BYTES, anchors, check, links, slug } from './check-links.js';

describe('docs:check: relative links and anchors resolve', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slug('Two commands'), 'two-commands');
    assert.equal(
      slug('1.2 HMAC #1 — every backend → relay call (`/relay/*`), and every relay → backend callback'),
      '12-hmac-1--every-backend--relay-call-relay-and-every-relay--backend-callback',
    );
    assert.equal(slug('3.5b Browser pieces (**decided**)'), '35b-browser-pieces-decided');
    assert.equal(slug('When one Redis is not enough'), 'when-one-redis-is-not-enough');
    assert.equal(slug('The [widget](x.md) and relay_user_id'), 'the-widget-and-relay_user_id');
    assert.equal(slug('Sécurité'), 'sécurité');
  });

  it('numbers repeated headings and ignores # lines in code fences', () => {
    const a = anchors('# A\n## Tests\n```bash\n# not a heading\n```\n### Tests\n<a id="custom"></a>\n');
    assert.deepEqual([...a].sort(), ['a', 'custom', 'tests', 'tests-1']);
  });

  it('finds links and reference definitions, not those in code', () => {
    const md = 'See [a](a.md#x) and ![i](img.png "t").\n`[no](code.md)`\n```\n[no](fence.md)\n```\n[ref]: other.md\n';
    assert.deepEqual(links(md), [
      { line: 1, target: 'a.md#x' },
      { line: 1, target: 'img.png' },
      { line: 6, target: 'other.md' },
    ]);
  });

  it('reports missing files, missing anchors and root-relative links; accepts the rest', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-check-'));
    try {
      mkdirSync(join(root, 'docs/concepts'), { recursive: true });
      writeFileSync(
        join(root, 'README.md'),
        '# R\n## Start here\n[ok](docs/a.md#the-page) [self](#start-here) [web](https://x.y/z#q) [gone](docs/nope.md)\n',
      );
      writeFileSync(
        join(root, 'docs/a.md'),
        '# The page\n[up](../README.md#start-here) [bad](concepts/b.md#missing) [abs](/docs/a.md) [dir](concepts/)\n',
      );
      writeFileSync(join(root, 'docs/concepts/b.md'), '# B\n[back](../a.md#the-page) [src](../../README.md#L1)\n');
      assert.deepEqual(check(root), [
        'README.md:3: docs/nope.md — no such file',
        'docs/a.md:2: concepts/b.md#missing — no heading with the anchor #missing',
        'docs/a.md:2: /docs/a.md — a root-relative link does not resolve on GitHub and in the docs site alike; link relatively',
        'docs/concepts/b.md:2: ../../README.md#L1 — no heading with the anchor #L1',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps README.md a front door: over 10 KB is reported', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-check-'));
    try {
      writeFileSync(join(root, 'README.md'), `# R\n${'x'.repeat(README_MAX_BYTES - 4)}`);
      assert.deepEqual(check(root), []);
      writeFileSync(join(root, 'README.md'), `# R\n${'x'.repeat(README_MAX_BYTES)}`);
      assert.deepEqual(check(root), [
        `README.md: ${README_MAX_BYTES + 4} bytes, over the front door's ${README_MAX_BYTES}; move the detail into docs/`,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
