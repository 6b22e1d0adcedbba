/**
 * French and English. The locale comes from the option, else the page's `<html lang>`, else French
 * (the relay's default, docs/contract.md §3.1). Each bundle has its own dictionary (widget/strings.ts,
 * inbox/strings.ts) with the same keys in both languages, checked by the type.
 */
export type Locale = 'fr' | 'en';

export function pickLocale(option?: string | null): Locale {
  const raw = (option || document.documentElement.lang || 'fr').toLowerCase();
  return raw.startsWith('en') ? 'en' : 'fr';
}

/** `t('key', {n: 2})` replaces `{n}` in the string. */
export function translator<K extends string>(dict: Record<Locale, Record<K, string>>, locale: Locale) {
  return (key: K, vars: Record<string, string | number> = {}): string =>
    dict[locale][key].replace(/\{(\w+)\}/g, (_, v: string) => String(vars[v] ?? ''));
}

export function timeOf(iso: string, locale: Locale): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(locale === 'fr' ? 'fr-FR' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}
