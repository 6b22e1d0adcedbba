// Lint: typescript-eslint's recommended rules with type information, plus a few that catch real bugs
// (floating promises, misused promises). Formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '**/dist/', '.data/', 'coverage/', 'sdk/python/', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  // The layers: api/ (HTTP) → models/ (domain) → queues/ (job catalogue) → platform/ (infrastructure);
  // workers/ runs models' flows. Nothing below api/ knows about HTTP; platform/ knows no domain.
  ...[
    ['models/**/*.ts', ['api', 'workers']],
    ['workers/**/*.ts', ['api']],
    ['queues/**/*.ts', ['api', 'models', 'workers']],
    ['platform/**/*.ts', ['api', 'models', 'queues', 'workers']],
  ].map(([files, layers]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: layers.map((l) => ({
            group: [`**/${l}/*`, `**/${l}/**`],
            message: `${files.split('/')[0]}/ must not import from ${l}/ (see the layering in eslint.config.js)`,
          })),
        },
      ],
    },
  })),
  // No Mongoose in api/: handlers reach MongoDB only through the data modules of models/ (`*-data.ts`
  // and the finders beside each schema), whose functions take the proven tenant (models/platform/
  // tenant-id.ts). And only the principal layer, which proves a tenant, may brand an id as one
  // (`tenantOfRecord`, for ids the relay wrote itself, is for models/ and workers/ only).
  ...[
    ['api/**/*.ts', ['api/principals/**'], true],
    ['api/principals/**/*.ts', [], false],
  ].map(([files, ignores, noMinting]) => ({
    files: [files],
    ignores,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'mongoose', message: 'api/ does not use Mongoose: call a data module of models/ (see eslint.config.js)' }],
          patterns: [
            {
              group: ['**/models/**'],
              importNamePattern: '^[A-Z][A-Za-z]*Model$',
              message: 'api/ does not query a Mongoose model: call a data module of models/ that takes the tenant',
            },
            ...(noMinting
              ? [
                  {
                    group: ['**/models/platform/tenant-id.js'],
                    importNames: ['provenTenantId', 'tenantOfRecord'],
                    message: 'Only the principal layer (api/principals/) proves a tenant: use principal.tenant.id',
                  },
                ]
              : []),
          ],
        },
      ],
    },
  })),
  {
    // Tests and scripts print, and tests read loosely typed JSON answers.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'sdk/typescript/test/**/*.ts', 'sdk/typescript/scripts/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
