/**
 * The kinds of value an environment variable can hold (whole number in a range, boolean word,
 * duration list, …): each is a zod schema from the raw string to the typed value, plus a short
 * hint that the configuration page (docs/configuration.md) prints beside the variable.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A schema from the variable's text to its value, and how the docs describe what it accepts. */
export interface Kind<T> {
  schema: z.ZodType<T, string>;
  /** e.g. "whole number 1–1000"; empty when the description already says it. */
  hint: string;
}

export const kind = <T>(schema: z.ZodType<T, string>, hint = ''): Kind<T> => ({ schema, hint });

export const bool: Kind<boolean> = kind(
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  'true/false (also 1/0, yes/no)',
);

export const int = (min: number, max: number): Kind<number> =>
  kind(
    z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max)),
    `whole number ${min}–${max}`,
  );

/** Comma-separated durations (`0,5s,5m,2h`; platform/duration.ts), in milliseconds. */
export const durationList: Kind<number[]> = kind(
  z
    .string()
    .transform((v, ctx) => {
      try {
        return v.split(',').map((s) => parseDuration(s.trim()));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.number()).min(1, 'needs at least one entry')),
  'comma-separated durations (ms, s, m, h)',
);

/** A value that a parser from elsewhere in platform/ accepts or rejects with a message of its own. */
export const parsedBy = <T>(parse: (v: string) => T, hint: string): Kind<T> =>
  kind(
    z.string().transform((v, ctx): T => {
      try {
        return parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
    hint,
  );

/** A value checked by a function from elsewhere in platform/, kept as the text given. */
export const checkedBy = (check: (v: string) => unknown, hint: string): Kind<string> =>
  kind(
    z.string().superRefine((v, ctx) => {
      try {
        check(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    hint,
  );
