const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "5s", "30m", "2h", "1d" or a bare number of milliseconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (use 250ms, 5s, 30m, 2h, 1d or milliseconds)`);
  return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
}
