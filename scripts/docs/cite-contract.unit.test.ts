/** The contract citation rewrite (scripts/docs/cite-contract.ts): what it rewrites, what it leaves alone. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findCitations, rewriteCitations, sourceFiles } from './cite-contract.js';

describe('cite-contract: SPEC § citations become docs/contract.md §', () => {
  it('rewrites every spelling of a citation and keeps the section numbers', () => {
    const cases: [string, string][] = [
      ['/** Pairing (SPEC §2.1). */', '/** Pairing (docs/contract.md §2.1). */'],
      ['// SPEC §3.5b: the console', '// docs/contract.md §3.5b: the console'],
      ['see SPEC.md §1.2 and SPEC §1.4', 'see docs/contract.md §1.2 and docs/contract.md §1.4'],
      ['(SPEC §2.4, §2.5)', '(docs/contract.md §2.4, §2.5)'],
      ['SPEC §0.', 'docs/contract.md §0.'],
      ['"""SPEC §2.3: scan"""', '"""docs/contract.md §2.3: scan"""'],
      ["describe('visitor sessions (SPEC §3.1)', () => {", "describe('visitor sessions (docs/contract.md §3.1)', () => {"],
      ['/** lives (SPEC: at most 10 minutes). */', '/** lives (docs/contract.md: at most 10 minutes). */'],
    ];
    for (const [before, after] of cases) assert.equal(rewriteCitations(before), after);
  });

  it('leaves identifiers that contain SPEC, and is idempotent', () => {
    for (const text of [
      "code: 'UNSPECIFIED_ERROR'",
      '_SPEC_VALUES = ("title",)',
      'const SPEC = 1;',
      'INSPECT_ARGS',
      'foo.SPEC §1',
      '/work/shared/SPEC.md',
    ]) {
      assert.equal(rewriteCitations(text), text, text);
      assert.deepEqual(findCitations(text), [], text);
    }
    const once = rewriteCitations('(SPEC §1.1) and SPEC.md §2');
    assert.equal(rewriteCitations(once), once);
  });

  it('--check finds each citation left, with its line', () => {
    assert.deepEqual(findCitations('a\n  // (SPEC §1.3) links\nb SPEC §2\n'), [
      { line: 2, text: '// (SPEC §1.3) links' },
      { line: 3, text: 'b SPEC §2' },
    ]);
    assert.deepEqual(findCitations('// docs/contract.md §1.3'), []);
  });

  it('walks the source folders, skipping dependencies, build output and caches', () => {
    const root = mkdtempSync(join(tmpdir(), 'cite-contract-'));
    try {
      for (const d of ['api/x', 'sdk/typescript/node_modules/p', 'sdk/typescript/dist', 'sdk/python/pkg/__pycache__', 'docs'])
        mkdirSync(join(root, d), { recursive: true });
      for (const f of [
        'api/x/a.ts',
        'api/x/b.py',
        'api/x/logo.png',
        'sdk/typescript/node_modules/p/i.ts',
        'sdk/typescript/dist/i.js',
        'sdk/python/pkg/__pycache__/m.py',
        'docs/contract.md',
      ])
        writeFileSync(join(root, f), '');
      const files = sourceFiles(root, ['api', 'sdk', 'nowhere']).map((f) => relative(root, f));
      assert.deepEqual(files, ['api/x/a.ts', 'api/x/b.py']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
