/**
 * Writes docs/configuration.md from the one table of settings (platform/config-settings.ts): a
 * table per concern with each variable, its default and its meaning. `--check` fails instead when
 * the committed page differs, so the page cannot drift from the code.
 */
import { CONCERNS, settingList, type Concern } from '../../platform/config-settings.js';
import { cell, generatedBanner, isMain, linkDocs, writeOrCheck } from './generated-page.js';

export function configurationPage(): string {
  const settings = settingList().map((s) => s.setting);
  const required = settings.filter((s) => s.required).map((s) => `\`${s.env}\``);
  const out = [
    '# Configuration',
    '',
    generatedBanner('platform/config-settings.ts', 'scripts/docs/gen-config.ts'),
    '',
    'The relay reads its configuration from environment variables, once at start (`platform/config.ts`);',
    'nothing else reads the environment. A missing or malformed setting stops the process at start with',
    'one line naming each bad variable and why (exit code 78).',
    '',
    `Required: ${required.join(', ')}. Everything else has a default meant for production, or is off when unset.`,
  ];
  for (const [concern, { title, about }] of Object.entries(CONCERNS) as [Concern, { title: string; about: string }][]) {
    const rows = settings.filter((s) => s.concern === concern);
    if (rows.length === 0) continue;
    out.push('', `## ${title}`, '', about, '', '| Variable | Default | Meaning |', '|---|---|---|');
    for (const s of rows) {
      const def = s.required ? 'required' : s.default === undefined ? 'unset' : `\`${s.default}\``;
      const meaning = linkDocs(s.hint ? `${s.doc} Accepts: ${s.hint}.` : s.doc);
      out.push(`| \`${s.env}\` | ${cell(def)} | ${cell(meaning)} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

if (isMain(import.meta.url)) writeOrCheck('docs/configuration.md', configurationPage());
