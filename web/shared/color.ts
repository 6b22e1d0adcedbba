/**
 * Tenant branding colours, made safe and readable: only `#rrggbb` is accepted (anything else could
 * inject CSS into the stylesheet), and text on the colour is white or near-black, whichever has the
 * higher WCAG contrast (one of the two is always ≥ 4.5:1).
 */
const HEX = /^#[0-9a-fA-F]{6}$/;
export const DEFAULT_PRIMARY = '#1f5eff';

export function safeColor(c: string | null | undefined): string {
  return c && HEX.test(c) ? c.toLowerCase() : DEFAULT_PRIMARY;
}

function luminance(hex: string): number {
  const ch = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = ch.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Text colour for a background: #ffffff or #111111, the more contrasted. */
export function onColor(bg: string): string {
  return contrast(bg, '#ffffff') >= contrast(bg, '#111111') ? '#ffffff' : '#111111';
}

/**
 * The brand colour as text or a border on white: the colour itself when it reaches 4.5:1, otherwise
 * darkened until it does (a pale brand colour still gets readable links and focus rings).
 */
export function inkOnWhite(c: string): string {
  let [r, g, b] = [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
  const hex = () => `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  for (let i = 0; i < 20 && contrast(hex(), '#ffffff') < 4.5; i++) [r, g, b] = [r * 0.85, g * 0.85, b * 0.85];
  return hex();
}
